import type { Clock } from './clock';

/**
 * Fires once when no byte arrived for `limitMs`. One timer, re-armed lazily: `touch()` on every
 * chunk only records the time, so a busy stream costs no timer churn.
 */
export class Watchdog {
  fired = false;
  private lastByteAt: number;
  private handle: unknown;

  constructor(
    private readonly clock: Clock,
    private readonly limitMs: number,
    private readonly onFire: () => void,
  ) {
    this.lastByteAt = clock.now();
    this.arm(limitMs);
  }

  touch(): void {
    this.lastByteAt = this.clock.now();
  }

  pause(): void {
    this.stop();
  }

  resume(): void {
    this.touch();
    this.arm(this.limitMs);
  }

  stop(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private arm(ms: number): void {
    this.handle = this.clock.setTimeout(() => this.check(), ms);
  }

  private check(): void {
    const idle = this.clock.now() - this.lastByteAt;
    if (idle < this.limitMs) return this.arm(this.limitMs - idle);
    this.handle = undefined;
    this.fired = true;
    this.onFire();
  }
}
