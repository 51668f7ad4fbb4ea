import type { Logger } from '@nestjs/common';
import { DomainError } from '@sessionwire/transport/protocol/domain-errors';
import type { ErrorCode } from '@sessionwire/transport/protocol';
import { v7 as uuidv7 } from 'uuid';
import { ApiProblem, problemBody, type ProblemExtensions } from './problem';
import { CommitFailedError, isDatabaseUnavailable } from '@sessionwire/events';

/** Seconds a client should wait when Postgres is unreachable. */
export const RETRY_AFTER_SECONDS = '5';

/** What a problem response says, before it is written. */
export interface Rendered {
  code: ErrorCode;
  detail: string;
  headers?: Record<string, string>;
  errorId?: string;
  extensions?: ProblemExtensions;
}

/** Where an error happened, for its log line. */
export interface ErrorSite {
  method?: string;
  path?: string;
}

/**
 * Renders an error thrown while handling a request (anything but Nest's own HttpException): an
 * ApiProblem as itself (with its extension members, `oldestSeq`), a domain error (the error or one
 * of its causes) as itself (a full write or connection queue is 503 `unavailable` with
 * `Retry-After`, its `detail` naming the queue), an unreachable Postgres as 503 with `Retry-After`
 * saying so, and anything else as a generic 500 whose `errorId` the log line also carries.
 */
export function renderError(
  exception: unknown,
  site: ErrorSite,
  logger: Pick<Logger, 'error'>,
): Rendered {
  if (exception instanceof ApiProblem) {
    return {
      code: exception.code,
      detail: exception.message,
      headers: exception.headers,
      extensions: exception.options.extensions,
    };
  }
  const domain = domainError(exception);
  if (domain) {
    // 503 from the store is load shedding (a full queue), not an outage: retry soon.
    const headers = domain.status === 503 ? { 'Retry-After': RETRY_AFTER_SECONDS } : undefined;
    return { code: domain.code, detail: domain.message, headers };
  }
  if (isDatabaseUnavailable(exception)) {
    logger.error({ err: exception, ...site }, 'database unavailable');
    // The connection broke while the commit ran: it may have been stored. Every write of the API
    // is safe to repeat (a message with the same clientMessageId, an interrupt, an end).
    const mayHaveLanded = exception instanceof CommitFailedError && exception.outcome === 'unknown';
    return {
      code: 'unavailable',
      detail: mayHaveLanded
        ? 'the database connection broke during the write, which may have been stored; retry the same request later (a message with the same clientMessageId)'
        : 'the database is unreachable; retry later',
      headers: { 'Retry-After': RETRY_AFTER_SECONDS },
    };
  }
  const errorId = uuidv7();
  logger.error({ err: exception, errorId, ...site }, 'internal error');
  return {
    code: 'internal_error',
    detail: 'an internal error occurred; quote the errorId when reporting it',
    errorId,
  };
}

/** The error, or one of its causes (a failed commit, a failed query), that is a DomainError. */
function domainError(exception: unknown): DomainError | undefined {
  let e = exception;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    if (e instanceof DomainError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The status, headers (in the order they are set) and body of a problem response. */
export function problemResponse(rendered: Rendered): {
  status: number;
  headers: [string, string][];
  body: string;
} {
  const body = problemBody(rendered.code, rendered.detail, rendered.errorId, rendered.extensions);
  return {
    status: body.status,
    headers: [
      ...Object.entries(rendered.headers ?? {}),
      ['Content-Type', 'application/problem+json; charset=utf-8'],
      ['Cache-Control', 'no-store'],
    ],
    body: JSON.stringify(body),
  };
}
