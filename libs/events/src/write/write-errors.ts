import { DomainError } from '@sessionwire/transport/protocol/domain-errors';

/** An event (or message) that breaks its protocol schema or cannot be stored; nothing was written. */
export class InvalidEventError extends DomainError {
  constructor(detail: string) {
    super('validation_failed', detail);
  }
}

/**
 * A `turn.started` for input that was already processed: its turn was closed meanwhile (a stop of
 * a message that was still waiting closes its turn without running it). Nothing was written. For
 * a worker that read the input just before, this is not a lost lease: read the next input.
 */
export class InputAlreadyProcessedError extends DomainError {
  constructor(
    readonly inputSeq: number,
    readonly processedSeq: number,
  ) {
    super(
      'validation_failed',
      `input ${inputSeq} is not pending: its turn was closed (processed up to ${processedSeq})`,
    );
  }
}

/**
 * Too many writes are already waiting for a commit (`APPEND_QUEUE_MAX`, or connections for
 * `DATABASE_QUEUE_MAX`): load shedding, not an outage. Rendered as 503 `unavailable`.
 */
export class WriteQueueFullError extends DomainError {
  constructor(
    readonly what: 'write' | 'connection',
    readonly waiting: number,
  ) {
    super(
      'unavailable',
      what === 'write'
        ? `the write queue is full (${waiting} writes waiting for a commit); retry later`
        : `the database connection queue is full (${waiting} requests waiting); retry later`,
    );
  }
}

/**
 * A commit failed (the connection broke, the server refused it): nothing of it is visible in the
 * log unless `outcome` is `unknown` (the connection was lost while the commit may have completed).
 * Every caller whose write was in that commit gets this error; `cause` is the driver's error.
 */
export class CommitFailedError extends Error {
  constructor(
    readonly outcome: 'rolled_back' | 'unknown',
    cause: unknown,
  ) {
    super(`commit failed (${outcome}): ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'CommitFailedError';
  }
}
