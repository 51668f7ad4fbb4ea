import { ERROR_CODES, type ErrorCode } from './api';
import type { SessionState } from './states';

// Server-side errors: the event store and the API raise them, the API renders them. Pure
// TypeScript, so neither side loads the other to share them. Deliberately not exported from
// ./index, which the client SDK re-exports: import '@sessionwire/transport/protocol/domain-errors'.

/** An expected failure with a stable code; the API renders it as problem+json with `status`. */
export class DomainError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
    this.status = ERROR_CODES[code];
  }
}

export class SessionNotFoundError extends DomainError {
  constructor(readonly sessionId: string) {
    super('session_not_found', `session ${sessionId} does not exist`);
  }
}

export class SessionEndedError extends DomainError {
  constructor(readonly sessionId: string) {
    super('session_ended', `session ${sessionId} has ended and accepts nothing more`);
  }
}

export class IdempotencyConflictError extends DomainError {
  constructor(
    readonly sessionId: string,
    readonly clientMessageId: string,
  ) {
    super(
      'idempotency_conflict',
      `clientMessageId ${clientMessageId} was already used with different content`,
    );
  }
}

export class IllegalTransitionError extends DomainError {
  constructor(
    readonly from: SessionState | null,
    readonly to: SessionState,
    detail?: string,
  ) {
    super('illegal_transition', detail ?? `illegal transition ${from ?? '(new)'} -> ${to}`);
  }
}
