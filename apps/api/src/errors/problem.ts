import { DomainError } from '@sessionwire/transport/protocol/domain-errors';
import { ERROR_CODES, type ErrorCode, type Problem } from '@sessionwire/transport/protocol';

const TITLES: Record<ErrorCode, string> = {
  validation_failed: 'Validation failed',
  unsupported_trigger: 'Unsupported trigger',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  session_not_found: 'Session not found',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  request_timeout: 'Request timeout',
  session_ended: 'Session ended',
  idempotency_conflict: 'Idempotency conflict',
  illegal_transition: 'Illegal transition',
  stale_lease: 'Stale lease',
  history_expired: 'History expired',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  rate_limited: 'Too many requests',
  header_fields_too_large: 'Request header fields too large',
  internal_error: 'Internal error',
  unavailable: 'Service unavailable',
};

/** Base of the `type` URI of every problem; `type` is this plus the code. */
export const PROBLEM_TYPE_BASE = 'https://sessionwire.dev/problems/';

/** Members a problem may carry beyond the standard ones (RFC 9457 extension members). */
export type ProblemExtensions = Pick<Problem, 'oldestSeq'>;

export interface ApiProblemOptions {
  /**
   * Set when this answer is given by design, not because something failed (a stream refused while
   * the node drains): the request is logged at this level, without a stack, even for a 5xx.
   */
  expected?: 'info' | 'warn';
  /** Members the body carries beside the standard ones (`oldestSeq` of a `history_expired`). */
  extensions?: ProblemExtensions;
}

/**
 * A DomainError raised by the API itself, possibly with response headers (Retry-After, Allow)
 * and extension members (`oldestSeq`).
 */
export class ApiProblem extends DomainError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly options: ApiProblemOptions = {},
  ) {
    super(code, message);
  }
}

export function problemBody(
  code: ErrorCode,
  detail: string,
  errorId?: string,
  extensions: ProblemExtensions = {},
): Problem {
  return {
    type: PROBLEM_TYPE_BASE + code.replaceAll('_', '-'),
    title: TITLES[code],
    status: ERROR_CODES[code],
    detail,
    code,
    ...(errorId ? { errorId } : {}),
    ...extensions,
  };
}

export const validationFailed = (detail: string) => new ApiProblem('validation_failed', detail);
