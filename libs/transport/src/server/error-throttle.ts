export type ErrorSink = (error: Error, context: string) => void;

export interface ErrorThrottleOptions {
  /** At most one report per context in this window (ms); default 10 s. */
  intervalMs?: number;
  now?: () => number;
}

/**
 * Rate-limits error reports by context: the first error of a context is passed on at once, later
 * ones at most once per window, each with the number suppressed since the last report. A Redis
 * failover makes ioredis emit hundreds of identical connection errors in seconds; the log gets a
 * handful and `total` still counts them all.
 */
export class ErrorThrottle {
  /** Every error seen, reported or not. */
  total = 0;
  private readonly windows = new Map<string, { reportedAt: number; suppressed: number }>();
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly sink: ErrorSink | undefined,
    options: ErrorThrottleOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  report(error: Error, context: string): void {
    this.total++;
    const now = this.now();
    const window = this.windows.get(context);
    if (window && now - window.reportedAt < this.intervalMs) {
      window.suppressed++;
      return;
    }
    const suppressed = window?.suppressed ?? 0;
    this.windows.set(context, { reportedAt: now, suppressed: 0 });
    if (this.windows.size > 1000) this.windows.delete(this.windows.keys().next().value!);
    this.sink?.(
      error,
      suppressed > 0 ? `${context} (${suppressed} more like it since the last report)` : context,
    );
  }
}
