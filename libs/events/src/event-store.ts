// Every read and write of `events` here keeps the partitioned log's constraints: partitioned-log.ts.
import { Inject, Injectable, Optional } from '@nestjs/common';
import { and, asc, desc, eq, gt, gte, lt, sql, type SQL } from 'drizzle-orm';
import type {
  Activity,
  NewEvent,
  SessionHead,
  SessionState,
  StoredEvent,
} from '@sessionwire/transport/protocol';
import { DATABASE, type Database } from './database';
import { runNamed } from './named-statement';
import { ReadBatcher } from '@sessionwire/transport/server';
import {
  eventsAfterMany,
  interruptRequests,
  nextInputsMany,
  type EventsAfter,
  type InputAfter,
  type InterruptRange,
  type UserMessageEvent,
} from './batched-reads';
import { SessionNotFoundError } from './errors';
import { events, sessions, type EventRow, type SessionRow } from './schema';
import type { SessionBounds } from './session-bounds';
import type { UserMessageResult } from './write/session-commands';
import { SessionWriter, type CreateSessionInput } from './write/session-writer';

export type { UserMessageResult } from './write/session-commands';
export type { CreateSessionInput } from './write/session-writer';

export interface AppendOptions {
  /** The caller's lease epoch; the append is refused with `stale_lease` unless it is current. */
  leaseEpoch?: number;
}

/** A session's turn as the AI SDK's resume sees it (see {@link EventStore.getCurrentTurn}). */
export interface CurrentTurn {
  /** The session's head as the row read it (a stream can start from it without another query). */
  head: SessionHead;
  state: SessionState;
  headSeq: number;
  /** The open turn's id, or null when none is open. */
  turnId: string | null;
  /** The seq of the open turn's `turn.started`. */
  startedSeq?: number;
  /** A `message.user` is waiting for its turn (and the session is not ENDED). */
  waiting: boolean;
}

export type { EventsAfter, InputAfter, InterruptRange, UserMessageEvent } from './batched-reads';

export type { SessionHead };

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
 * - Every write goes through {@link SessionWriter} (validated, group-committed, published by its
 *   `onCommitted` hook); the methods here that write only hand it over.
 */
@Injectable()
export class EventStore {
  /** The write module every write of this store (and of its LeaseStore) goes through. */
  readonly writer: SessionWriter;
  /** Lower bounds of `created_at` for reads; fed by the writer's commits and by reads. */
  private readonly bounds: SessionBounds;
  private readonly inputs: ReadBatcher<InputAfter, UserMessageEvent | undefined>;

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Optional() writer?: SessionWriter,
  ) {
    this.writer = writer ?? new SessionWriter(db);
    this.bounds = this.writer.bounds;
    this.inputs = new ReadBatcher((reads) => this.getNextInputMany(reads));
  }

  createSession(input: CreateSessionInput): Promise<SessionRow> {
    return this.writer.createSession(input);
  }

  async getSession(sessionId: string): Promise<SessionRow | undefined> {
    const [row] = await runNamed(
      'session',
      this.db.select().from(sessions).where(eq(sessions.id, sessionId)),
    );
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
   * returns them with their seqs. Refused for an unknown session, an ended one, or a stale epoch;
   * an event that breaks its schema is an `InvalidEventError` and nothing is written.
   */
  append(
    sessionId: string,
    newEvents: NewEvent[],
    options: AppendOptions = {},
  ): Promise<StoredEvent[]> {
    return this.writer.append(sessionId, newEvents, options.leaseEpoch);
  }

  /**
   * Appends a `message.user`, idempotent by `clientMessageId`: the same id with byte-equal content
   * returns the original event and `duplicate: true` (also after the session ended); other content
   * is an {@link IdempotencyConflictError}.
   */
  appendUserMessage(
    sessionId: string,
    message: { clientMessageId: string; content: string },
  ): Promise<UserMessageResult> {
    return this.writer.appendUserMessage(sessionId, message);
  }

  /**
   * Events with `seq > afterSeq`, ascending, at most `limit`. After retention the first one may
   * be above `afterSeq + 1`: the seqs in between were removed (the log lost a prefix).
   */
  async getEventsAfter(sessionId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const since = await this.bounds.of(sessionId, afterSeq);
    if (!since) return [];
    const rows = await this.page(
      'events after',
      sessionId,
      since,
      asc(events.seq),
      limit,
      gt(events.seq, afterSeq),
    );
    const stored = rows.map(toStoredEvent);
    this.bounds.noteEvents(sessionId, stored);
    return stored;
  }

  /** The session's lowest stored seq (retention removes prefixes); undefined when none is left. */
  async getOldestSeq(sessionId: string): Promise<number | undefined> {
    const since = await this.bounds.of(sessionId);
    if (!since) return undefined;
    const [row] = await runNamed(
      'oldest seq',
      this.db
        .select({ seq: events.seq })
        .from(events)
        .where(and(eq(events.sessionId, sessionId), gte(events.createdAt, since)))
        .orderBy(asc(events.seq))
        .limit(1),
    );
    return row ? Number(row.seq) : undefined;
  }

  /**
   * Many reads in one query: for each, what `getEventsAfter` would return, in the same order as
   * `reads` (see {@link eventsAfterMany}).
   */
  getEventsAfterMany(reads: readonly EventsAfter[]): Promise<StoredEvent[][]> {
    return eventsAfterMany(this.db, this.bounds, reads);
  }

  /**
   * The turns whose interrupt was requested in `(afterSeq, toSeq]` of each session, in one query
   * (the worker's poll for interrupt hints it may have missed); sessions with none are absent.
   */
  getInterruptRequests(ranges: readonly InterruptRange[]): Promise<Map<string, string[]>> {
    return interruptRequests(this.db, this.bounds, ranges);
  }

  /** The `limit` events just below `beforeSeq`, ascending. */
  async getEventsBefore(
    sessionId: string,
    beforeSeq: number,
    limit: number,
  ): Promise<StoredEvent[]> {
    const since = await this.bounds.of(sessionId);
    if (!since) return [];
    const rows = await this.page(
      'events before',
      sessionId,
      since,
      desc(events.seq),
      limit,
      lt(events.seq, beforeSeq),
    );
    const stored = rows.map(toStoredEvent).reverse();
    this.bounds.noteEvents(sessionId, stored);
    return stored;
  }

  /**
   * The session's first `message.user` above `afterSeq` (the next input of a worker that
   * processed up to it), or undefined. Reads of many sessions waiting at the same moment share
   * one query (a {@link ReadBatcher} over {@link getNextInputMany}), so a worker that starts many
   * sessions at once reads their inputs in few round trips; each read sees the log at least as
   * fresh as when it was asked.
   */
  getNextInput(sessionId: string, afterSeq: number): Promise<UserMessageEvent | undefined> {
    return this.inputs.read(`${sessionId}:${afterSeq}`, { sessionId, afterSeq });
  }

  /** For each read, what {@link getNextInput} returns, in one query (see {@link nextInputsMany}). */
  getNextInputMany(reads: readonly InputAfter[]): Promise<(UserMessageEvent | undefined)[]> {
    return nextInputsMany(this.db, this.bounds, reads);
  }

  /**
   * The session's open turn and whether input waits, or undefined for an unknown session. The
   * `turn.started` is found from the head downwards, above `processed_seq`: the read is bounded by
   * the open turn and the input before it, never the session's history.
   */
  async getCurrentTurn(sessionId: string): Promise<CurrentTurn | undefined> {
    const row = await this.getSession(sessionId);
    if (!row) return undefined;
    const state = row.state as SessionState;
    const headSeq = Number(row.headSeq);
    const turn: CurrentTurn = {
      head: { headSeq, state, activity: row.activity as Activity },
      state,
      headSeq,
      turnId: row.turnId,
      waiting:
        row.turnId === null &&
        state !== 'ENDED' &&
        Number(row.lastInputSeq) > Number(row.processedSeq),
    };
    if (row.turnId === null) return turn;
    const processedSeq = Number(row.processedSeq);
    const since = await this.bounds.of(sessionId, processedSeq);
    if (!since) return turn;
    const [started] = await this.page(
      'open turn start',
      sessionId,
      since,
      desc(events.seq),
      1,
      gt(events.seq, processedSeq),
      eq(events.type, 'turn.started'),
      sql`${events.data}->>'turnId' = ${row.turnId}`,
    );
    return started ? { ...turn, startedSeq: Number(started.seq) } : turn;
  }

  /** The session's highest seq; 0 for an unknown session. */
  async getHeadSeq(sessionId: string): Promise<number> {
    const [row] = await runNamed(
      'head seq',
      this.db
        .select({ headSeq: sessions.headSeq })
        .from(sessions)
        .where(eq(sessions.id, sessionId)),
    );
    return row?.headSeq ?? 0;
  }

  /** Head, state and activity of many sessions in one query; unknown ids are absent. */
  async getHeads(sessionIds: readonly string[]): Promise<Map<string, SessionHead>> {
    const heads = new Map<string, SessionHead>();
    if (sessionIds.length === 0) return heads;
    const rows = await runNamed(
      'heads',
      this.db
        .select({
          id: sessions.id,
          headSeq: sessions.headSeq,
          state: sessions.state,
          activity: sessions.activity,
          createdAt: sessions.createdAt,
        })
        .from(sessions)
        .where(sql`${sessions.id} = any(${sql.param([...sessionIds])}::uuid[])`),
    );
    for (const row of rows) {
      // A stream resolves the head before it reads: its read then needs no lookup of the bound.
      this.bounds.note(row.id, row.createdAt);
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
   * `session.state` event in the same commit.
   */
  transition(
    sessionId: string,
    from: SessionState,
    to: SessionState,
    reason: string,
    options: AppendOptions = {},
  ): Promise<StoredEvent> {
    return this.writer.transition(sessionId, from, to, reason, options.leaseEpoch);
  }

  /**
   * Records an interrupt of the running turn. With no open turn nothing is appended and
   * `turnId` is null; an ENDED session refuses.
   */
  requestInterrupt(sessionId: string): Promise<{ turnId: string | null; events: StoredEvent[] }> {
    return this.writer.requestInterrupt(sessionId);
  }
  /**
   * Up to `limit` of the session's events since `since` that match `where`, in `order`; `site`
   * names the caller (one text per site, see {@link runNamed}).
   */
  private page(
    site: string,
    sessionId: string,
    since: Date,
    order: SQL,
    limit: number,
    ...where: SQL[]
  ) {
    return runNamed(
      site,
      this.db
        .select()
        .from(events)
        .where(and(eq(events.sessionId, sessionId), gte(events.createdAt, since), ...where))
        .orderBy(order)
        .limit(limit),
    );
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
