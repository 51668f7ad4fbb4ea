import { Logger } from '@nestjs/common';

/**
 * Runs `work` every `intervalMs`, never two runs at once. `wake()` runs it as soon as the current
 * run (if any) ends. When `work` returns true (there is more to do) it runs again at once. A
 * failing run is logged and retried at the next interval.
 */
export class PeriodicTask {
  private static readonly log = new Logger(PeriodicTask.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private active = false;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<boolean | void>,
  ) {}

  start(): void {
    if (this.active) return;
    this.active = true;
    this.wake();
  }

  wake(): void {
    if (!this.active) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (!this.active) return;
      if (this.again) this.wake();
      else this.timer = setTimeout(() => this.wake(), this.intervalMs);
    });
  }

  /** Stops scheduling and waits for a run in progress. */
  async stop(): Promise<void> {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        if (await this.work()) this.again = true;
      } catch (error) {
        PeriodicTask.log.error(`${this.name} failed: ${(error as Error).stack ?? error}`);
        return;
      }
    } while (this.again && this.active);
  }
}
