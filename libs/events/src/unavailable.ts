const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);
// Not "timeout exceeded when trying to connect": that is pg-pool's wait for a busy pool (load),
// which the pool here never times out (DATABASE_QUEUE_MAX bounds it instead).
const CONNECTION_MESSAGES =
  /Connection terminated|connect ECONNREFUSED|Client has encountered a connection error|timeout expired/i;

interface Cause {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/** True when an error (or one of its causes) means Postgres could not be reached. */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Duck-typed, not `instanceof Error`: driver errors may come from another realm.
  for (
    let e = error as Cause | undefined, depth = 0;
    e && typeof e === 'object' && depth < 5;
    depth++
  ) {
    const code = e.code;
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) {
      return true;
    }
    if (Array.isArray(e.errors) && e.errors.some(isDatabaseUnavailable)) return true;
    if (typeof e.message === 'string' && CONNECTION_MESSAGES.test(e.message)) return true;
    e = e.cause as Cause | undefined;
  }
  return false;
}

/** Errors of opening a connection: the statement was never sent, so nothing of it can have run. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** True when the error is a failure to connect (nothing was sent to Postgres). */
export function neverReachedServer(error: unknown): boolean {
  const code = (error as Cause | undefined)?.code;
  return typeof code === 'string' && CONNECT_CODES.has(code);
}

/** An error's message without drizzle's `Failed query: <sql>` wrapping (the driver's own words). */
export function databaseErrorMessage(error: unknown): string {
  let e = error as Cause | undefined;
  for (let depth = 0; depth < 5 && e?.cause && /^Failed query/.test(String(e.message)); depth++) {
    e = e.cause as Cause;
  }
  return typeof e?.message === 'string' ? e.message : String(e);
}
