import type { Clock } from './clock';
import { NetworkError, OfflineError } from './errors';

/** What `offline` reports: since when no server answered, how often it was tried, the last cause. */
export interface OfflineInfo {
  /** Clock time when the period without an answer began. */
  since: number;
  /** How long it has lasted so far (ms). */
  offlineMs: number;
  /** Attempts that failed in this period. */
  attempts: number;
  /** The last failure (or a NetworkError saying no answer came yet). */
  error: Error;
  /** The base URL tried last. */
  url: string;
}

export interface OfflineLimits {
  /** `offline` fires once this long without an answer (ms). Default 5000. */
  offlineAfterMs?: number;
  /** Give up after this long without an answer (ms). Default: never, retry for ever. */
  giveUpAfterMs?: number;
}

export interface OfflineHandlers {
  offline(info: OfflineInfo): void;
  online(info: { offlineMs: number }): void;
  giveUp(error: OfflineError): void;
}

export const DEFAULT_OFFLINE_AFTER_MS = 5000;

/**
 * One period of not reaching any server, shared by `SessionStream` and `Outbox`. `begin(at)` starts
 * a period (if none is running), `failed(error)` records an attempt, `reached()` ends it. Timers
 * armed at the start say `offline` after `offlineAfterMs` and give up after `giveUpAfterMs`.
 */
export class OfflineWatch {
  private since: number | undefined;
  private attempts = 0;
  private lastError: Error | undefined;
  private announced = false;
  private timers: unknown[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly limits: OfflineLimits,
    private readonly currentUrl: () => string,
    private readonly handlers: OfflineHandlers,
  ) {}

  get offline(): boolean {
    return this.announced;
  }

  begin(at = this.clock.now()): void {
    if (this.since !== undefined) return;
    this.since = at;
    const elapsed = this.clock.now() - at;
    const after = this.limits.offlineAfterMs ?? DEFAULT_OFFLINE_AFTER_MS;
    this.timers.push(this.clock.setTimeout(() => this.announce(), Math.max(0, after - elapsed)));
    const giveUp = this.limits.giveUpAfterMs;
    if (giveUp !== undefined) {
      this.timers.push(this.clock.setTimeout(() => this.expire(), Math.max(0, giveUp - elapsed)));
    }
  }

  failed(error: Error, attemptStartedAt?: number): void {
    this.begin(attemptStartedAt);
    this.attempts += 1;
    this.lastError = error;
  }

  reached(): void {
    if (this.since === undefined) return;
    const offlineMs = this.clock.now() - this.since;
    const wasOffline = this.announced;
    this.stop();
    if (wasOffline) this.handlers.online({ offlineMs });
  }

  stop(): void {
    for (const timer of this.timers) this.clock.clearTimeout(timer);
    this.timers = [];
    this.since = undefined;
    this.attempts = 0;
    this.lastError = undefined;
    this.announced = false;
  }

  private info(): OfflineInfo {
    const since = this.since ?? this.clock.now();
    return {
      since,
      offlineMs: this.clock.now() - since,
      attempts: this.attempts,
      error: this.lastError ?? new NetworkError('no answer yet'),
      url: this.currentUrl(),
    };
  }

  private announce(): void {
    this.announced = true;
    this.handlers.offline(this.info());
  }

  private expire(): void {
    const { offlineMs, error } = this.info();
    this.stop();
    this.handlers.giveUp(new OfflineError(offlineMs, error));
  }
}

/** The line written when nobody listens to `offline`: a silent retry loop is worse than a log line. */
export function offlineWarning(what: string, info: OfflineInfo): string {
  return (
    `sessionwire: ${what} has had no answer from ${info.url} for ${info.offlineMs} ms ` +
    `(${info.attempts} attempts; last: ${info.error.message}); still retrying. ` +
    `Listen to 'offline' to handle this, or set giveUpAfterMs to stop.`
  );
}
