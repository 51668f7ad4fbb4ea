import { Inject, Injectable } from '@nestjs/common';
import { and, asc, inArray, isNotNull, isNull, lt, ne, sql } from 'drizzle-orm';
import type { SessionState, StoredEvent } from '@sessionwire/transport/protocol';
import { DATABASE, type Database } from './database';
import { SessionNotFoundError, StaleLeaseError } from './errors';
import { EventStore, type Executor } from './event-store';
import { sessions, type SessionRow } from './schema';

export interface Lease {
  sessionId: string;
  leaseEpoch: number;
}

/** A session whose ownership changed, with the events that recorded it (to publish after commit). */
export interface SessionChange {
  session: SessionRow;
  events: StoredEvent[];
}

const CLAIMABLE: SessionState[] = ['CREATED', 'SUSPENDED', 'DETACHED'];
const HELD: SessionState[] = ['STARTING', 'ACTIVE'];

/**
 * Session ownership by workers: Postgres leases with a fencing epoch.
 *
 * Guarantees:
 * - A session has at most one owner; `lease_epoch` grows at every claim, release, detach and end,
 *   so a worker that lost its lease can never append or transition again.
 * - Claiming uses `FOR UPDATE SKIP LOCKED`: concurrent workers never claim the same session and
 *   never wait on each other.
 * - An expired lease is turned into DETACHED in one transaction that closes the open turn as
 *   `worker_lost`; the turn is not re-run.
 */
@Injectable()
export class LeaseStore {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly store: EventStore,
  ) {}

  /** Claims up to `limit` sessions with pending input: → STARTING, owned by `owner`, new epoch. */
  async claim(owner: string, leaseMs: number, limit: number): Promise<SessionChange[]> {
    if (limit <= 0) return [];
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(sessions)
        .where(
          and(
            sql`${sessions.lastInputSeq} > ${sessions.processedSeq}`,
            ne(sessions.state, 'ENDED'),
            inArray(sessions.state, CLAIMABLE),
            isNull(sessions.owner),
          ),
        )
        .orderBy(asc(sessions.updatedAt))
        .limit(limit)
        .for('update', { skipLocked: true });
      const claimed: SessionChange[] = [];
      for (const row of rows) {
        const event = await this.store.transitionLocked(
          tx,
          row,
          row.state as SessionState,
          'STARTING',
          'claimed',
          { owner, leaseExpiresAt: expiresIn(leaseMs), leaseEpoch: row.leaseEpoch + 1 },
        );
        claimed.push({ session: row, events: [event] });
      }
      return claimed;
    });
  }

  /** Extends the given leases in one query; returns the ids still held (others were lost). */
  async renew(owner: string, leases: readonly Lease[], leaseMs: number): Promise<Set<string>> {
    if (leases.length === 0) return new Set();
    const ids = leases.map((l) => l.sessionId);
    const epochs = leases.map((l) => l.leaseEpoch);
    const rows = await this.db
      .update(sessions)
      .set({ leaseExpiresAt: expiresIn(leaseMs) })
      .where(
        and(
          sql`${sessions.owner} = ${owner}`,
          inArray(sessions.state, HELD),
          sql`(${sessions.id}, ${sessions.leaseEpoch}) in (select * from unnest(${sql.param(ids)}::uuid[], ${sql.param(epochs)}::int[]))`,
        ),
      )
      .returning({ id: sessions.id });
    return new Set(rows.map((r) => r.id));
  }

  /** Gives a session up (ACTIVE → SUSPENDED, STARTING → DETACHED); pending input stays claimable. */
  async release(lease: Lease, reason: string): Promise<SessionChange> {
    return this.db.transaction(async (tx) => {
      const row = await this.store.lockSession(tx, lease.sessionId);
      if (!row) throw new SessionNotFoundError(lease.sessionId);
      if (row.leaseEpoch !== lease.leaseEpoch || !HELD.includes(row.state as SessionState)) {
        throw new StaleLeaseError(lease.sessionId, lease.leaseEpoch);
      }
      const to = row.state === 'ACTIVE' ? 'SUSPENDED' : 'DETACHED';
      const event = await this.store.transitionLocked(
        tx,
        row,
        row.state as SessionState,
        to,
        reason,
        {
          ...unowned(row),
        },
      );
      return { session: row, events: [event] };
    });
  }

  /**
   * Detaches up to `limit` sessions whose lease expired: the open turn (if any) is closed with
   * `worker_lost`, the state goes to DETACHED and the epoch is bumped, in one transaction each.
   */
  async detachExpired(limit: number): Promise<SessionChange[]> {
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(sessions)
        .where(
          and(
            isNotNull(sessions.owner),
            lt(sessions.leaseExpiresAt, sql`now()`),
            inArray(sessions.state, HELD),
          ),
        )
        .limit(limit)
        .for('update', { skipLocked: true });
      const detached: SessionChange[] = [];
      for (const row of rows) {
        const events = await this.closeOpenTurn(tx, row, 'worker_lost');
        events.push(
          await this.store.transitionLocked(
            tx,
            row,
            row.state as SessionState,
            'DETACHED',
            'lease_expired',
            unowned(row),
          ),
        );
        detached.push({ session: row, events });
      }
      return detached;
    });
  }

  /**
   * Ends a session in one transaction: a running turn gets `turn.completed` (`interrupted`), the
   * state goes to ENDED and the epoch is bumped, so its worker can append nothing more. Ending an
   * ENDED session changes nothing and returns no events.
   */
  async end(sessionId: string, reason = 'ended_by_user'): Promise<SessionChange> {
    return this.db.transaction(async (tx) => {
      const row = await this.store.lockSession(tx, sessionId);
      if (!row) throw new SessionNotFoundError(sessionId);
      if (row.state === 'ENDED') return { session: row, events: [] };
      const events = await this.closeOpenTurn(tx, row, 'interrupted');
      events.push(
        await this.store.transitionLocked(
          tx,
          row,
          row.state as SessionState,
          'ENDED',
          reason,
          unowned(row),
        ),
      );
      return { session: row, events };
    });
  }

  private async closeOpenTurn(
    tx: Executor,
    row: SessionRow,
    stopReason: 'worker_lost' | 'interrupted',
  ): Promise<StoredEvent[]> {
    if (row.turnId === null) return [];
    return this.store.insertEvents(tx, row, [
      { type: 'turn.completed', data: { turnId: row.turnId, stopReason } },
    ]);
  }
}

function expiresIn(ms: number) {
  return sql`now() + ${ms} * interval '1 millisecond'` as unknown as Date;
}

function unowned(row: SessionRow) {
  return { owner: null, leaseExpiresAt: null, leaseEpoch: row.leaseEpoch + 1 };
}
