import type { SessionHead } from './states';
import type { StoredEvent } from './events';

/** REST shapes (PROTOCOL §3). */
export interface Session extends SessionHead {
  id: string;
  agent: string;
  createdAt: string;
  updatedAt: string;
  metadata: Record<string, unknown>;
}

export interface SessionList {
  sessions: Session[];
  nextCursor: string | null;
}

export interface EventsPage extends SessionHead {
  sessionId: string;
  events: StoredEvent[];
  hasMore: boolean;
}

export interface MessageAccepted {
  sessionId: string;
  seq: number;
  clientMessageId: string;
  duplicate: boolean;
}

export interface InterruptAccepted {
  sessionId: string;
  turnId: string | null;
}

export interface TokenIssued {
  token: string;
  expiresAt: string;
}

export const ERROR_CODES = {
  validation_failed: 400,
  unsupported_trigger: 400,
  unauthorized: 401,
  forbidden: 403,
  session_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  session_ended: 409,
  idempotency_conflict: 409,
  illegal_transition: 409,
  stale_lease: 409,
  history_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  header_fields_too_large: 431,
  internal_error: 500,
  unavailable: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/** `application/problem+json` body of every error response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errorId?: string;
  /** `history_expired` only: the first seq still stored (§8). */
  oldestSeq?: number;
}
