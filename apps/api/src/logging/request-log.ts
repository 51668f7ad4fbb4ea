import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { requestLogLevel } from './logger.options';

/** What a request's log line says of it (as pino-http's `req` serializer gives it). */
export interface LoggedRequest {
  id: string;
  method: string | undefined;
  url: string | undefined;
}

/**
 * The one line pino-http writes when a response is over, for the routes served beneath Express:
 * the same fields (`req`, `res`, `responseTime`, and `err` for 5xx), messages and levels, written
 * through the logger (and serializers) pino-http uses.
 */
export function logRequest(
  logger: Logger,
  req: LoggedRequest,
  res: ServerResponse,
  startedAt: number,
  aborted: boolean,
): void {
  const responseTime = Date.now() - startedAt;
  const level = requestLogLevel(res.statusCode);
  if (res.statusCode >= 500) {
    const err = new Error(`failed with status code ${res.statusCode}`);
    logger[level]({ req, res, err, responseTime }, 'request errored');
    return;
  }
  const finished = !aborted && res.writableEnded;
  logger[level]({ req, res, responseTime }, finished ? 'request completed' : 'request aborted');
}
