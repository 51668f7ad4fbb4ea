import type { EventStore } from '@sessionwire/events';
import {
  InputAlreadyProcessedError,
  SessionEndedError,
  SessionNotFoundError,
  StaleLeaseError,
  type Lease,
} from '@sessionwire/events';
import type { NewEvent, SessionState, StoredEvent } from '@sessionwire/transport/protocol';
import type { WorkerMetrics } from '../metrics/worker-metrics';

/** The session is no longer this worker's: its epoch moved on, it ended, or it is gone. */
export class LeaseLostError extends Error {
  constructor(
    readonly sessionId: string,
    cause: unknown,
  ) {
    super(`lease on session ${sessionId} was lost: ${(cause as Error).message}`, { cause });
    this.name = 'LeaseLostError';
  }
}

export function isFencingError(error: unknown): boolean {
  return (
    error instanceof StaleLeaseError ||
    error instanceof SessionEndedError ||
    error instanceof SessionNotFoundError
  );
}

/**
 * Writes a held session's events with the lease epoch (a stale epoch is refused by the store and
 * surfaces as {@link LeaseLostError}); the store's commit hook publishes them.
 */
export class SessionAppender {
  constructor(
    private readonly store: EventStore,
    private readonly metrics: WorkerMetrics,
    readonly lease: Lease,
  ) {}

  async append(events: NewEvent[]): Promise<StoredEvent[]> {
    const stored = await this.guard(() =>
      this.store.append(this.lease.sessionId, events, { leaseEpoch: this.lease.leaseEpoch }),
    );
    for (const event of stored) this.metrics.eventsAppended.inc({ type: event.type });
    return stored;
  }

  transition(from: SessionState, to: SessionState, reason: string): Promise<StoredEvent> {
    return this.guard(() =>
      this.store.transition(this.lease.sessionId, from, to, reason, {
        leaseEpoch: this.lease.leaseEpoch,
      }),
    );
  }

  private async guard<T>(write: () => Promise<T>): Promise<T> {
    try {
      const result = await write();
      this.metrics.appends.inc({ outcome: 'ok' });
      return result;
    } catch (error) {
      if (isFencingError(error)) {
        this.metrics.appends.inc({ outcome: 'refused' });
        throw new LeaseLostError(this.lease.sessionId, error);
      }
      if (error instanceof InputAlreadyProcessedError) {
        this.metrics.appends.inc({ outcome: 'refused' });
        throw error;
      }
      this.metrics.appends.inc({ outcome: 'failed' });
      throw error;
    }
  }
}
