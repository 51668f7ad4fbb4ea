import type { BrokerListener } from './broker';

/**
 * The listeners of each channel a broker holds. Most channels have one listener (one fan-out per
 * session and node), kept as it is; a channel with more keeps them in an array. A listener added
 * twice is called twice and must be removed twice.
 */
export class ChannelListeners {
  private readonly channels = new Map<string, BrokerListener | BrokerListener[]>();

  /** Adds a listener; true when the channel had none (it is new). */
  add(channel: string, listener: BrokerListener): boolean {
    const current = this.channels.get(channel);
    if (current === undefined) this.channels.set(channel, listener);
    else if (!Array.isArray(current)) this.channels.set(channel, [current, listener]);
    else current.push(listener);
    return current === undefined;
  }

  /** Removes one registration of a listener; true when that left the channel with none. */
  remove(channel: string, listener: BrokerListener): boolean {
    const current = this.channels.get(channel);
    if (current === undefined) return false;
    if (!Array.isArray(current)) {
      if (current !== listener) return false;
      this.channels.delete(channel);
      return true;
    }
    const at = current.indexOf(listener);
    if (at < 0) return false;
    current.splice(at, 1);
    if (current.length === 1) this.channels.set(channel, current[0]);
    return false;
  }

  /** Forgets a channel and its listeners. */
  forget(channel: string): void {
    this.channels.delete(channel);
  }

  /** Calls the channel's listeners (those present when the payload arrived). */
  deliver(channel: string, payload: string): void {
    const current = this.channels.get(channel);
    if (current === undefined) return;
    if (!Array.isArray(current)) return call(current, payload);
    for (const listener of [...current]) call(listener, payload);
  }

  has(channel: string): boolean {
    return this.channels.has(channel);
  }

  keys(): IterableIterator<string> {
    return this.channels.keys();
  }

  get size(): number {
    return this.channels.size;
  }

  clear(): void {
    this.channels.clear();
  }
}

function call(listener: BrokerListener, payload: string): void {
  if (typeof listener === 'function') listener(payload);
  else listener.onMessage(payload);
}
