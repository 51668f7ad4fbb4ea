import type { ServerResponse } from 'node:http';

export type RequestLogLevel = 'info' | 'warn' | 'error';

interface Expected {
  level: 'info' | 'warn';
  reason: string;
}

const EXPECTED = Symbol('sessionwire.expectedOutcome');
const CLIENT_GONE_CODES = new Set([
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
]);

type Marked = ServerResponse & { [EXPECTED]?: Expected };

/**
 * Marks a response as an answer given by design, not a fault (a stream refused with 503 while the
 * node drains, a readiness probe failing): its request is logged at `level`, without an error or a
 * stack, whatever its status.
 */
export function markExpected(res: ServerResponse, level: Expected['level'], reason: string): void {
  (res as Marked)[EXPECTED] = { level, reason };
}

export function expectedOutcome(res: ServerResponse): Expected | undefined {
  return (res as Marked)[EXPECTED];
}

/** True when an error only says that the client went away (closed the page, lost the network). */
export function isClientGone(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    (typeof code === 'string' && CLIENT_GONE_CODES.has(code)) ||
    (typeof message === 'string' && /^(aborted|socket hang up)$/.test(message))
  );
}

/**
 * The level of a request's log line: `error` only for faults (a 5xx that was not marked expected,
 * an error other than the client going away), `warn` for the client's mistakes (4xx), `info` for
 * the rest, including a client that went away and answers marked with {@link markExpected}.
 */
export function requestLogLevel(res: ServerResponse, error?: unknown): RequestLogLevel {
  if (error && !isClientGone(error)) return 'error';
  const expected = expectedOutcome(res);
  if (expected) return expected.level;
  if (error) return 'info';
  if (res.statusCode >= 500) return 'error';
  if (res.statusCode >= 400) return 'warn';
  return 'info';
}

/**
 * Whether a request's log line carries `error`. pino-http invents one (`failed with status code
 * 5xx`, with a stack into its own code) for every 5xx; that says nothing the status does not, and
 * the fault itself is logged where it was caught, with an `errorId`. Only a real error other than
 * the client going away is kept.
 */
export function keepsError(res: ServerResponse & { err?: unknown }, error: unknown): boolean {
  if (isClientGone(error) || expectedOutcome(res)) return false;
  const synthetic =
    res.err === undefined &&
    error instanceof Error &&
    error.message === `failed with status code ${res.statusCode}`;
  return !synthetic;
}
