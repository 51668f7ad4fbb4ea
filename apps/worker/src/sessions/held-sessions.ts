import type { WorkerMetrics } from '../metrics/worker-metrics';
import type { SessionExit, SessionRunner } from './session-runner';

interface Held {
  runner: SessionRunner;
  done: Promise<SessionExit>;
}

/** The sessions this worker holds a lease on, each with its running {@link SessionRunner}. */
export class HeldSessions {
  private readonly held = new Map<string, Held>();

  constructor(private readonly metrics: WorkerMetrics) {}

  get size(): number {
    return this.held.size;
  }

  get(sessionId: string): SessionRunner | undefined {
    return this.held.get(sessionId)?.runner;
  }

  runners(): SessionRunner[] {
    return [...this.held.values()].map((h) => h.runner);
  }

  /**
   * Runs the runner; it leaves the set when it exits, then `onExit` is called. A runner already
   * here for the same session is replaced (the caller dropped it: a new claim means a new epoch).
   */
  add(runner: SessionRunner, onExit: (exit: SessionExit) => void): void {
    const entry: Held = { runner, done: Promise.resolve('abandoned') };
    this.held.set(runner.sessionId, entry);
    this.metrics.sessionsHeld.set(this.held.size);
    entry.done = runner.run().then((exit) => {
      if (this.held.get(runner.sessionId) === entry) this.held.delete(runner.sessionId);
      this.metrics.sessionsHeld.set(this.held.size);
      onExit(exit);
      return exit;
    });
  }

  /** Resolves when every runner held now has exited, or after `timeoutMs`; true if all exited. */
  async settled(timeoutMs: number): Promise<boolean> {
    const all = Promise.all([...this.held.values()].map((h) => h.done)).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      return await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
