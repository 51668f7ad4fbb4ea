import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { expectedOutcome, requestLogLevel } from './request-outcome';

/** What a request's log line says of it (as pino-http's `req` serializer gives it). */
export interface LoggedRequest {
  id: string;
  method: string | undefined;
  url: string | undefined;
}

/**
 * The one line pino-http writes when a response is over, for the routes served beneath Express:
 * the same fields (`req`, `res`, `responseTime`), messages and levels (`requestLogLevel`: an answer
 * marked expected, such as a stream refused while draining, at its own level and without an error;
 * `error` only for a fault), written through the logger (and serializers) pino-http uses. Faults
 * themselves are logged where they were caught, with their stack and `errorId`.
 */
export function logRequest(
  logger: Logger,
  req: LoggedRequest,
  res: ServerResponse,
  startedAt: number,
  aborted: boolean,
): void {
  const responseTime = Date.now() - startedAt;
  const level = requestLogLevel(res);
  const expected = expectedOutcome(res);
  if (expected) {
    logger[level](
      { req, res, responseTime },
      `request answered ${res.statusCode}: ${expected.reason}`,
    );
    return;
  }
  if (res.statusCode >= 500) {
    logger[level]({ req, res, responseTime }, 'request errored');
    return;
  }
  const finished = !aborted && res.writableEnded;
  logger[level]({ req, res, responseTime }, finished ? 'request completed' : 'request aborted');
}
