import { DomainError } from '@sessionwire/transport/protocol/domain-errors';

// The session errors live with the protocol so that the API can use them without loading the store.
export {
  DomainError,
  IdempotencyConflictError,
  IllegalTransitionError,
  SessionEndedError,
  SessionNotFoundError,
} from '@sessionwire/transport/protocol/domain-errors';

/** A write carried a lease epoch that is no longer the session's: the writer lost its lease. */
export class StaleLeaseError extends DomainError {
  constructor(
    readonly sessionId: string,
    readonly leaseEpoch: number,
  ) {
    super('stale_lease', `lease epoch ${leaseEpoch} of session ${sessionId} is no longer current`);
  }
}
