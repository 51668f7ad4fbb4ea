import type { Broker, BrokerListener, Unsubscribe } from './broker';

/**
 * In-process broker for a single process (`npm start` without Redis). Delivers every publish to
 * the current listeners synchronously, in publish order; nothing is ever lost.
 */
export class MemoryBroker implements Broker {
  private readonly channels = new Map<string, Set<BrokerListener>>();
  private closed = false;

  async publish(channel: string, payload: string): Promise<void> {
    if (this.closed) return;
    const listeners = this.channels.get(channel);
    if (!listeners) return;
    for (const listener of [...listeners]) listener(payload);
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<Unsubscribe> {
    let listeners = this.channels.get(channel);
    if (!listeners) this.channels.set(channel, (listeners = new Set()));
    const own = (payload: string) => listener(payload);
    listeners.add(own);
    return async () => {
      listeners.delete(own);
      if (listeners.size === 0 && this.channels.get(channel) === listeners) {
        this.channels.delete(channel);
      }
    };
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
