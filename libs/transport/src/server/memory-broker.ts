import { unsubscribeOnce, type Broker, type BrokerListener, type Unsubscribe } from './broker';
import { ChannelListeners } from './channel-listeners';

/**
 * In-process broker for a single process (`npm start` without Redis). Delivers every publish to
 * the current listeners synchronously, in publish order; nothing is ever lost.
 */
export class MemoryBroker implements Broker {
  private readonly channels = new ChannelListeners();
  private closed = false;

  async publish(channel: string, payload: string): Promise<void> {
    if (this.closed) return;
    this.channels.deliver(channel, payload);
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<Unsubscribe> {
    this.channels.add(channel, listener);
    return unsubscribeOnce(this, channel, listener);
  }

  async unsubscribe(channel: string, listener: BrokerListener): Promise<void> {
    this.channels.remove(channel, listener);
  }

  onResubscribe(_listener: () => void): void {
    // An in-process bus never disconnects.
  }

  /** Number of channels with listeners (for tests and metrics). */
  get channelCount(): number {
    return this.channels.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.channels.clear();
  }
}
