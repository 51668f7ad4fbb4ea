import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { EventStore } from '@sessionwire/events';
import {
  CommitFailedError,
  databaseErrorMessage,
  InputAlreadyProcessedError,
  isDatabaseUnavailable,
  SessionEndedError,
  SessionNotFoundError,
  StaleLeaseError,
  type Lease,
  type LeaseStore,
  type SessionChange,
} from '@sessionwire/events';
import type { NewEvent, SessionState, StoredEvent } from '@sessionwire/transport/protocol';
import type { DatabaseHealth } from '../health/database-health';
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

/**
 * Postgres stayed unreachable until the session's lease may have expired: the worker gives the
 * session up (writes nothing more, renews nothing) and the sweep closes its turn as `worker_lost`.
 */
export class LeaseLapsedError extends Error {
  constructor(
    readonly sessionId: string,
    cause: unknown,
  ) {
    super(
      `gave up session ${sessionId}: Postgres unreachable until its lease lapsed (${databaseErrorMessage(cause)})`,
      { cause },
    );
    this.name = 'LeaseLapsedError';
  }
}

export function isFencingError(error: unknown): boolean {
  return (
    error instanceof StaleLeaseError ||
    error instanceof SessionEndedError ||
    error instanceof SessionNotFoundError
  );
}

export interface AppenderDeps {
  store: EventStore;
  leases: LeaseStore;
  metrics: WorkerMetrics;
  health: DatabaseHealth;
}

/** First and longest pause between two attempts of a write while Postgres is unreachable. */
export const RETRY_MIN_MS = 100;
export const RETRY_MAX_MS = 1_000;

/**
 * Every write (and read) of one held session, with its lease epoch; the store's commit hook
 * publishes what commits. A stale epoch surfaces as {@link LeaseLostError}.
 *
 * When Postgres is unreachable, a write is retried until it succeeds, for as long as the lease
 * certainly holds (`leaseDeadline`, ms since the epoch), so a turn goes on in order and gap-free
 * once Postgres is back. The lease and its epoch make the retry safe: only this worker writes
 * the session's output. A write whose commit may have landed (`CommitFailedError` `unknown`) is
 * looked for in the log first (the events after the last seq this appender stored), so it is
 * never stored twice. Past the deadline the write fails with {@link LeaseLapsedError}.
 */
export class SessionAppender {
  /** Highest seq this session's log had when this worker last wrote or claimed it. */
  private lastSeq: number;
  private readonly stop = new AbortController();

  constructor(
    private readonly deps: AppenderDeps,
    readonly lease: Lease,
    headSeq: number,
    private readonly leaseDeadline: () => number,
  ) {
    this.lastSeq = headSeq;
  }

  /** Ends any retry at once (with {@link LeaseLostError}): the session is no longer ours. */
  cancel(): void {
    this.stop.abort();
  }

  async append(events: NewEvent[]): Promise<StoredEvent[]> {
    const stored = await this.write(
      () =>
        this.deps.store.append(this.lease.sessionId, events, { leaseEpoch: this.lease.leaseEpoch }),
      () => this.findStored(events),
    );
    this.noteStored(stored);
    for (const event of stored) this.deps.metrics.eventsAppended.inc({ type: event.type });
    return stored;
  }

  async transition(from: SessionState, to: SessionState, reason: string): Promise<StoredEvent> {
    const event: NewEvent = { type: 'session.state', data: { from, to, reason } };
    const stored = await this.write(
      () =>
        this.deps.store.transition(this.lease.sessionId, from, to, reason, {
          leaseEpoch: this.lease.leaseEpoch,
        }),
      async () => (await this.findStored([event]))?.[0],
    );
    this.noteStored([stored]);
    return stored;
  }

  /**
   * Gives the lease back. Retried like a write; a retry after a commit that did land finds the
   * epoch moved on and fails with {@link LeaseLostError}, which means the same: not ours.
   */
  release(reason: string): Promise<SessionChange> {
    return this.write(() => this.deps.leases.release(this.lease, reason));
  }

  /** A read of this session, retried like a write while Postgres is unreachable. */
  read<T>(query: (store: EventStore) => Promise<T>): Promise<T> {
    return this.retrying(() => query(this.deps.store));
  }

  private async write<T>(attempt: () => Promise<T>, find?: () => Promise<T | undefined>) {
    let mayHaveLanded = false;
    try {
      const result = await this.retrying(async () => {
        if (mayHaveLanded && find) {
          const found = await find();
          if (found !== undefined) return found;
        }
        try {
          return await attempt();
        } catch (error) {
          if (!(error instanceof CommitFailedError && error.outcome === 'rolled_back')) {
            mayHaveLanded ||= isDatabaseUnavailable(error);
          }
          if (isDatabaseUnavailable(error)) this.deps.metrics.appends.inc({ outcome: 'failed' });
          throw error;
        }
      });
      this.deps.metrics.appends.inc({ outcome: 'ok' });
      return result;
    } catch (error) {
      if (isFencingError(error)) {
        this.deps.metrics.appends.inc({ outcome: 'refused' });
        throw new LeaseLostError(this.lease.sessionId, error);
      }
      if (error instanceof InputAlreadyProcessedError) {
        this.deps.metrics.appends.inc({ outcome: 'refused' });
      } else if (!(error instanceof LeaseLapsedError || error instanceof LeaseLostError)) {
        this.deps.metrics.appends.inc({ outcome: 'failed' });
      }
      throw error;
    }
  }

  /** Runs `operation` until it succeeds or fails other than by Postgres being unreachable. */
  private async retrying<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.stop.signal.aborted)
        throw new LeaseLostError(this.lease.sessionId, new Error('dropped'));
      try {
        const result = await operation();
        this.deps.health.succeeded();
        return result;
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        this.deps.health.failed(`session ${this.lease.sessionId}`, error);
        const pause = Math.min(RETRY_MIN_MS * 2 ** attempt, RETRY_MAX_MS);
        if (Date.now() + pause >= this.leaseDeadline()) {
          throw new LeaseLapsedError(this.lease.sessionId, error);
        }
        this.deps.metrics.writeRetries.inc();
        await sleep(pause, undefined, { signal: this.stop.signal }).catch(() => undefined);
      }
    }
  }

  /** `events` as stored after {@link lastSeq}, if a commit that reported failure stored them. */
  private async findStored(events: NewEvent[]): Promise<StoredEvent[] | undefined> {
    const after = await this.deps.store.getEventsAfter(this.lease.sessionId, this.lastSeq, 1000);
    const first = normalized(events[0]);
    const at = after.findIndex(
      (e) => e.type === first.type && isDeepStrictEqual(e.data, first.data),
    );
    if (at < 0) return undefined;
    // One command's events are stored together: consecutive seqs of the session.
    return after.slice(at, at + events.length);
  }

  private noteStored(stored: readonly StoredEvent[]): void {
    for (const event of stored) this.lastSeq = Math.max(this.lastSeq, event.seq);
  }
}

/** An event as it reads back from the log (JSON: no `undefined` members). */
function normalized(event: NewEvent): { type: string; data: unknown } {
  return { type: event.type, data: JSON.parse(JSON.stringify(event.data)) as unknown };
}
