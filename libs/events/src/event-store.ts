// Every read and write of `events` here keeps the partitioned log's constraints: partitioned-log.ts.
import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, getTableColumns, gt, gte, lt, sql } from 'drizzle-orm';
import {
  isLegalTransition,
  type Activity,
  type NewEvent,
  type SessionHead,
  type SessionState,
  type StoredEvent,
} from '@sessionwire/transport/protocol';
import { DATABASE, type Database } from './database';
import {
  DomainError,
  IllegalTransitionError,
  SessionEndedError,
  SessionNotFoundError,
  StaleLeaseError,
} from './errors';
import { findUserMessage } from './message-key-lookup';
import { nextEventAt } from './partitioned-log';
import { events, sessions, type EventRow, type SessionRow } from './schema';
import { appendRowNeutral, isRowNeutral } from './row-neutral-append';
import { SessionBounds } from './session-bounds';
import { applyEvents } from './session-effects';

/** A transaction or the database itself: anything that runs queries. */
export type Executor = Parameters<Parameters<Database['transaction']>[0]>[0] | Database;

export interface AppendOptions {
  /** The caller's lease epoch; the append is refused with `stale_lease` unless it is current. */
  leaseEpoch?: number;
}

export type { SessionHead };

export interface UserMessageResult {
  event: StoredEvent & { type: 'message.user' };
  duplicate: boolean;
}

export interface CreateSessionInput {
  id: string;
  agent: string;
  metadata?: Record<string, unknown>;
}

export interface ListSessionsInput {
  state?: SessionState;
  limit: number;
  /** Keyset position: sessions created before this id (ids are UUIDv7, so they sort by time). */
  beforeId?: string;
}

/**
 * The Postgres event store: the source of truth of every session.
 *
 * Guarantees:
 * - Per session, `seq` runs 1, 2, 3, … with no gap and no duplicate. Seqs are assigned under the
 *   session row's lock in the transaction that inserts the events, so commits happen in seq order
 *   and a reader never sees seq N+1 before seq N.
 * - State changes follow the protocol's table only, each with its `session.state` event in the
 *   same transaction.
 * - Appends and transitions that carry a lease epoch are refused unless it is the current one.
 * - `appendUserMessage` is idempotent by `(sessionId, clientMessageId)` under any concurrency,
 *   also after retention removed the original event (the key lives in `message_keys`).
 * - `created_at` never decreases along a session's seqs (see the `events` table), and reads only
 *   visit the partitions since the session was created ({@link SessionBounds}).
 */
@Injectable()
export class EventStore {
  private readonly bounds: SessionBounds;

  constructor(@Inject(DATABASE) private readonly db: Database) {
    this.bounds = new SessionBounds(db);
  }

  async createSession(input: CreateSessionInput): Promise<SessionRow> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(sessions)
        .values({
          id: input.id,
          agent: input.agent,
          state: 'CREATED',
          metadata: input.metadata ?? {},
          headSeq: 0,
        })
        .returning();
      await this.insertEvents(tx, row, [
        { type: 'session.state', data: { from: null, to: 'CREATED', reason: 'created' } },
      ]);
      this.bounds.note(row.id, row.createdAt);
      return row;
    });
  }

  async getSession(sessionId: string): Promise<SessionRow | undefined> {
    const [row] = await this.db.select().from(sessions).where(eq(sessions.id, sessionId));
    if (row) this.bounds.note(row.id, row.createdAt);
    return row;
  }

  async requireSession(sessionId: string): Promise<SessionRow> {
    const row = await this.getSession(sessionId);
    if (!row) throw new SessionNotFoundError(sessionId);
    return row;
  }

  /** Newest first, by id (UUIDv7: creation time, then random), keyset-paged. */
  async listSessions(input: ListSessionsInput): Promise<SessionRow[]> {
    const conditions = [];
    if (input.state) conditions.push(eq(sessions.state, input.state));
    if (input.beforeId) conditions.push(lt(sessions.id, input.beforeId));
    return this.db
      .select()
      .from(sessions)
      .where(conditions.length ? and(...conditions) : undefined)
      .orderBy(desc(sessions.id))
      .limit(input.limit);
  }

  /**
   * Appends events (never `message.user` or `session.state`: those have their own methods) and
   * returns them with their seqs. Refused for an unknown session, an ended one, or a stale epoch.
   */
  async append(
    sessionId: string,
    newEvents: NewEvent[],
    options: AppendOptions = {},
  ): Promise<StoredEvent[]> {
    for (const event of newEvents) {
      if (event.type === 'message.user' || event.type === 'session.state') {
        throw new Error(`${event.type} events are written by their own EventStore methods`);
      }
    }
    if (newEvents.length === 0) return [];
    if (isRowNeutral(newEvents)) {
      const appended = await appendRowNeutral(this.db, sessionId, newEvents, options.leaseEpoch);
      if (appended) {
        this.bounds.noteEvents(sessionId, appended);
        return appended;
      }
      // Refused (unknown, ended or fenced): the full path below names the reason.
    }
    return this.db.transaction(async (tx) => {
      const row = await this.lockLive(tx, sessionId, options.leaseEpoch);
      return this.insertEvents(tx, row, newEvents);
    });
  }

  /**
   * Appends a `message.user`, idempotent by `clientMessageId`: the same id with byte-equal content
   * returns the original event and `duplicate: true` (also after the session ended); other content
   * is an {@link IdempotencyConflictError}.
   */
  async appendUserMessage(
    sessionId: string,
    message: { clientMessageId: string; content: string },
  ): Promise<UserMessageResult> {
    return this.db.transaction(async (tx) => {
      const row = await this.lockSession(tx, sessionId);
      if (!row) throw new SessionNotFoundError(sessionId);
      const original = await findUserMessage(tx, sessionId, message);
      if (original) return { event: original, duplicate: true };
      if (row.state === 'ENDED') throw new SessionEndedError(sessionId);
      const [event] = await this.insertEvents(
        tx,
        row,
        [{ type: 'message.user', data: message }],
        message.clientMessageId,
      );
      return { event: event as UserMessageResult['event'], duplicate: false };
    });
  }

  /**
   * Events with `seq > afterSeq`, ascending, at most `limit`. After retention the first one may
   * be above `afterSeq + 1`: the seqs in between were removed (the log lost a prefix).
   */
  async getEventsAfter(sessionId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const since = await this.bounds.of(sessionId, afterSeq);
    if (!since) return [];
    const rows = await this.db
      .select()
      .from(events)
      .where(
        and(
          eq(events.sessionId, sessionId),
          gte(events.createdAt, since),
          gt(events.seq, afterSeq),
        ),
      )
      .orderBy(asc(events.seq))
      .limit(limit);
    const stored = rows.map(toStoredEvent);
    this.bounds.noteEvents(sessionId, stored);
    return stored;
  }

  /** The session's lowest stored seq (retention removes prefixes); undefined when none is left. */
  async getOldestSeq(sessionId: string): Promise<number | undefined> {
    const since = await this.bounds.of(sessionId);
    if (!since) return undefined;
    const [row] = await this.db
      .select({ seq: events.seq })
      .from(events)
      .where(and(eq(events.sessionId, sessionId), gte(events.createdAt, since)))
      .orderBy(asc(events.seq))
      .limit(1);
    return row ? Number(row.seq) : undefined;
  }

  /** The `limit` events just below `beforeSeq`, ascending. */
  async getEventsBefore(
    sessionId: string,
    beforeSeq: number,
    limit: number,
  ): Promise<StoredEvent[]> {
    const since = await this.bounds.of(sessionId);
    if (!since) return [];
    const rows = await this.db
      .select()
      .from(events)
      .where(
        and(
          eq(events.sessionId, sessionId),
          gte(events.createdAt, since),
          lt(events.seq, beforeSeq),
        ),
      )
      .orderBy(desc(events.seq))
      .limit(limit);
    const stored = rows.map(toStoredEvent).reverse();
    this.bounds.noteEvents(sessionId, stored);
    return stored;
  }

  /** The oldest `message.user` after `afterSeq`, if any. */
  async getNextInput(
    sessionId: string,
    afterSeq: number,
  ): Promise<(StoredEvent & { type: 'message.user' }) | undefined> {
    const since = await this.bounds.of(sessionId, afterSeq);
    if (!since) return undefined;
    const [row] = await this.db
      .select()
      .from(events)
      .where(
        and(
          eq(events.sessionId, sessionId),
          gte(events.createdAt, since),
          gt(events.seq, afterSeq),
          eq(events.type, 'message.user'),
        ),
      )
      .orderBy(asc(events.seq))
      .limit(1);
    return row ? (toStoredEvent(row) as StoredEvent & { type: 'message.user' }) : undefined;
  }

  /** The session's highest seq; 0 for an unknown session. */
  async getHeadSeq(sessionId: string): Promise<number> {
    const [row] = await this.db
      .select({ headSeq: sessions.headSeq })
      .from(sessions)
      .where(eq(sessions.id, sessionId));
    return row?.headSeq ?? 0;
  }

  /** Head, state and activity of many sessions in one query; unknown ids are absent. */
  async getHeads(sessionIds: readonly string[]): Promise<Map<string, SessionHead>> {
    const heads = new Map<string, SessionHead>();
    if (sessionIds.length === 0) return heads;
    const rows = await this.db
      .select({
        id: sessions.id,
        headSeq: sessions.headSeq,
        state: sessions.state,
        activity: sessions.activity,
      })
      .from(sessions)
      .where(sql`${sessions.id} = any(${sql.param([...sessionIds])}::uuid[])`);
    for (const row of rows) {
      heads.set(row.id, {
        headSeq: row.headSeq,
        state: row.state as SessionState,
        activity: row.activity as Activity,
      });
    }
    return heads;
  }

  /**
   * Moves a session from `from` to `to` (a legal transition only) and appends its
   * `session.state` event in the same transaction.
   */
  async transition(
    sessionId: string,
    from: SessionState,
    to: SessionState,
    reason: string,
    options: AppendOptions = {},
  ): Promise<StoredEvent> {
    return this.db.transaction(async (tx) => {
      const row = await this.lockSession(tx, sessionId);
      if (!row) throw new SessionNotFoundError(sessionId);
      checkEpoch(row, options.leaseEpoch);
      return this.transitionLocked(tx, row, from, to, reason);
    });
  }

  /**
   * Records an interrupt of the running turn. With no open turn nothing is appended and
   * `turnId` is null; an ENDED session refuses.
   */
  async requestInterrupt(
    sessionId: string,
  ): Promise<{ turnId: string | null; events: StoredEvent[] }> {
    return this.db.transaction(async (tx) => {
      const row = await this.lockLive(tx, sessionId);
      if (row.turnId === null) return { turnId: null, events: [] };
      const appended = await this.insertEvents(tx, row, [
        { type: 'interrupt.requested', data: { turnId: row.turnId } },
      ]);
      return { turnId: row.turnId, events: appended };
    });
  }

  /** Locks a session row for the rest of the transaction. */
  async lockSession(tx: Executor, sessionId: string): Promise<SessionRow | undefined> {
    const [row] = await tx.select().from(sessions).where(eq(sessions.id, sessionId)).for('update');
    if (row) this.bounds.note(row.id, row.createdAt);
    return row;
  }

  /** Locks a session that must exist, not be ENDED, and (with an epoch) be held by the caller. */
  async lockLive(tx: Executor, sessionId: string, leaseEpoch?: number): Promise<SessionRow> {
    const row = await this.lockSession(tx, sessionId);
    if (!row) throw new SessionNotFoundError(sessionId);
    checkEpoch(row, leaseEpoch);
    if (row.state === 'ENDED') throw new SessionEndedError(sessionId);
    return row;
  }

  /** A transition on a row the caller has locked; checks `from` and legality. */
  async transitionLocked(
    tx: Executor,
    row: SessionRow,
    from: SessionState,
    to: SessionState,
    reason: string,
    extra: Partial<typeof sessions.$inferInsert> = {},
  ): Promise<StoredEvent> {
    if (row.state !== from) {
      throw new IllegalTransitionError(from, to, `session ${row.id} is ${row.state}, not ${from}`);
    }
    if (!isLegalTransition(from, to)) throw new IllegalTransitionError(from, to);
    const [event] = await this.insertEvents(
      tx,
      row,
      [{ type: 'session.state', data: { from, to, reason } }],
      undefined,
      extra,
    );
    return event;
  }

  /**
   * Inserts events after the locked row's head and updates the row in the same transaction.
   * `row` must have been read under `lockSession` in `tx`; it is updated in place.
   */
  async insertEvents(
    tx: Executor,
    row: SessionRow,
    newEvents: NewEvent[],
    clientMessageId?: string,
    extra: Partial<typeof sessions.$inferInsert> = {},
  ): Promise<StoredEvent[]> {
    let effects;
    try {
      effects = applyEvents(
        { ...row, state: row.state as SessionState, headSeq: Number(row.headSeq) },
        newEvents,
      );
    } catch (error) {
      throw new DomainError('validation_failed', (error as Error).message);
    }
    const update = {
      state: effects.state,
      activity: effects.activity,
      headSeq: effects.headSeq,
      lastInputSeq: effects.lastInputSeq,
      processedSeq: effects.processedSeq,
      turnId: effects.turnId,
      turnInputSeq: effects.turnInputSeq,
      // never earlier than the previous event, whatever the clock does (partitioned-log.ts, rule 1)
      lastEventAt: nextEventAt() as unknown as Date,
      updatedAt: new Date(),
      ...extra,
    };
    const first = Number(row.headSeq) + 1;
    const [{ eventsAt, ...updated }] = await tx
      .update(sessions)
      .set(update)
      .where(eq(sessions.id, row.id))
      .returning({
        ...getTableColumns(sessions),
        // as text: a JS Date would drop the microseconds
        eventsAt: sql<string>`${sessions.lastEventAt}::text`,
      });
    Object.assign(row, updated);
    const inserted = await tx
      .insert(events)
      .values(
        newEvents.map((event, i) => ({
          sessionId: row.id,
          seq: first + i,
          type: event.type,
          data: event.data,
          clientMessageId: event.type === 'message.user' ? clientMessageId : null,
          createdAt: sql`${eventsAt}::timestamptz` as unknown as Date,
        })),
      )
      .returning();
    const stored = inserted.map(toStoredEvent);
    this.bounds.noteEvents(row.id, stored);
    return stored;
  }
}

function checkEpoch(row: SessionRow, leaseEpoch: number | undefined): void {
  if (leaseEpoch !== undefined && row.leaseEpoch !== leaseEpoch) {
    throw new StaleLeaseError(row.id, leaseEpoch);
  }
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    sessionId: row.sessionId,
    seq: Number(row.seq),
    type: row.type,
    data: row.data,
    createdAt: row.createdAt.toISOString(),
  } as StoredEvent;
}
