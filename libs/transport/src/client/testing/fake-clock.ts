import type { Clock } from '../clock';

/** Lets pending promise callbacks and stream reads run (a few real macrotask turns). */
export async function flush(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => globalThis.setTimeout(resolve, 0));
}

interface Timer {
  at: number;
  delay: number;
  callback: () => void;
}

/** A clock whose time only moves when a test calls `advance`; timers fire in time order. */
export class FakeClock implements Clock {
  private time = 1_000_000;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    const delay = Math.max(0, ms);
    this.timers.set(id, { at: this.time + delay, delay, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Delays (as requested) of the timers still pending, in creation order. */
  pendingDelays(): number[] {
    return [...this.timers.values()].map((t) => t.delay);
  }

  get pendingCount(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting their effects run. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next[1].at > end) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].callback();
      await flush();
    }
    this.time = end;
    await flush();
  }

  /** Fires the earliest timer (moving time to it); returns its requested delay. */
  async fireNext(): Promise<number> {
    const next = this.earliest();
    if (!next) throw new Error('no timer pending');
    await this.advance(next[1].at - this.time);
    return next[1].delay;
  }

  private earliest(): [number, Timer] | undefined {
    let best: [number, Timer] | undefined;
    for (const entry of this.timers) if (!best || entry[1].at < best[1].at) best = entry;
    return best;
  }
}
