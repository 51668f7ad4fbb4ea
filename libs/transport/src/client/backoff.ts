/** Reconnect and retry pacing: exponential growth, full jitter, never below a floor. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay window (ms). Default 500. */
  baseMs?: number;
  /** Largest delay window (ms). Default 30000. */
  maxMs?: number;
  /** Smallest delay ever used, so a failing peer never sees a tight loop (ms). Default 100. */
  minMs?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 500, maxMs: 30_000, minMs: 100 };

/**
 * Delay before retry number `attempt` (0 = first retry): uniformly random in
 * `[floor, max(floor, min(maxMs, baseMs * 2^attempt))]` where `floor` is the larger of `minMs` and
 * the server's request (`retry:` field or `Retry-After`). The window doubles with every attempt, the
 * jitter spreads clients that failed together, and the server's floor is always respected.
 */
export function backoffDelay(
  attempt: number,
  serverFloorMs: number,
  options: BackoffOptions,
  random: () => number,
): number {
  const { baseMs, maxMs, minMs } = { ...DEFAULT_BACKOFF, ...options };
  const floor = Math.max(minMs, serverFloorMs);
  const window = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  const ceiling = Math.max(floor, window);
  return Math.round(floor + random() * (ceiling - floor));
}

/** `Retry-After` as milliseconds (delta-seconds or an HTTP date); 0 when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number {
  if (!value) return 0;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? 0 : Math.max(0, date - now);
}
