import { Logger } from '@nestjs/common';
import { and, asc, inArray, isNotNull, isNull, lt, ne, sql } from 'drizzle-orm';
import type { NewEvent, SessionState, StoredEvent } from '@sessionwire/transport/protocol';
import type { Database } from '../database';
import { NamedStatement, runNamed } from '../named-statement';
import { SessionNotFoundError } from '@sessionwire/transport/protocol/domain-errors';
import { sessions, type SessionRow } from '../schema';
import { SessionBounds } from '../session-bounds';
import { isUuid, prepareEvents, storableJson, storedEvent } from './event-validation';
import { lockedWrite, rowsOf } from './locked-write';
import type { SessionCommand } from './session-command';
import {
  appendCommand,
  closeCommand,
  HELD,
  interruptCommand,
  messageCommand,
  releaseCommand,
  transitionCommand,
  type SessionChange,
  type UserMessageResult,
} from './session-commands';
import { InvalidEventError } from './write-errors';
import { WritePipeline, type CommitHook, type WriteObserver } from './write-pipeline';

export interface WriterOptions {
  /** Most writes per commit (`APPEND_BATCH_MAX`, default 512); 1 turns group commit off. */
  batchMax?: number;
  /** Most group commits in flight at once (`APPEND_COMMITS_MAX`, default 4), one per session. */
  commitsMax?: number;
  /** Most writes waiting for a commit (`APPEND_QUEUE_MAX`, default 10,000). */
  queueMax?: number;
  /**
   * Called after every commit, exactly once, with every event it stored (the apps publish the
   * hints here), never for a failed commit. A hook that throws is logged; the write stands.
   */
  onCommitted?: CommitHook;
  observer?: WriteObserver;
}

export interface Lease {
  sessionId: string;
  leaseEpoch: number;
}

export interface CreateSessionInput {
  id: string;
  agent: string;
  metadata?: Record<string, unknown>;
}

/** A new session's row and its first event; the event's created_at is the row's last_event_at. */
const CREATE_SESSION = new NamedStatement<{
  id: string;
  agent: string;
  metadata: string;
  event: string;
}>(
  () => sql`
    with s as (
      insert into sessions (id, agent, state, metadata, head_seq, last_event_at)
      values (${sql.placeholder('id')}, ${sql.placeholder('agent')}, 'CREATED',
              ${sql.placeholder('metadata')}::jsonb, 1, clock_timestamp())
      returning id, last_event_at
    )
    insert into events (session_id, seq, type, data, created_at)
    select s.id, 1, 'session.state', ${sql.placeholder('event')}::jsonb, s.last_event_at from s
    returning session_id, seq, type, data, created_at`,
);

/** Extends the leases still held under their epochs (rows locked in id order); their ids. */
const RENEW_LEASES = new NamedStatement<{
  sessionIds: string[];
  epochs: number[];
  owner: string;
  leaseMs: number;
}>(
  () => sql`
    with held as (
      select s.id from sessions s
      join unnest(${sql.placeholder('sessionIds')}::uuid[], ${sql.placeholder('epochs')}::int[])
        as l(id, epoch)
        on s.id = l.id and s.lease_epoch = l.epoch
      where s.owner = ${sql.placeholder('owner')} and s.state in ('STARTING', 'ACTIVE')
        and s.lease_expires_at > now()
      order by s.id
      for update of s
    )
    update sessions t
    set lease_expires_at = now() + ${sql.placeholder('leaseMs')} * interval '1 millisecond'
    from held where t.id = held.id
    returning t.id`,
);

const CLAIMABLE: SessionState[] = ['CREATED', 'SUSPENDED', 'DETACHED'];

/**
 * The write module: every write to the log and the sessions table goes through here (the
 * EventStore and LeaseStore methods that write delegate to it). For every write:
 * - payloads are checked against the protocol's schemas before any SQL ({@link InvalidEventError}
 *   for that caller);
 * - what events do to the session row comes from one table (`EVENT_EFFECTS`), on both paths;
 * - appends, messages, transitions, interrupts, releases and ends of all sessions waiting at the
 *   same moment are group-committed ({@link WritePipeline}); claims and sweeps, which pick their
 *   sessions themselves, commit alone through the same locked path;
 * - `onCommitted` gets every committed event once, after its commit: no call site publishes.
 */
export class SessionWriter {
  private static readonly log = new Logger('SessionWriter');
  private readonly pipeline: WritePipeline;
  private readonly onCommitted: CommitHook;
  /** Where each session's events begin, as far as this process wrote or read them (reads use it). */
  readonly bounds: SessionBounds;

  constructor(
    private readonly db: Database,
    options: WriterOptions = {},
  ) {
    this.bounds = new SessionBounds(db);
    const hook = options.onCommitted ?? (() => undefined);
    this.onCommitted = (events) => {
      this.noteEvents(events);
      return hook(events);
    };
    this.pipeline = new WritePipeline(db, {
      batchMax: options.batchMax ?? 512,
      commitsMax: options.commitsMax ?? 4,
      queueMax: options.queueMax ?? 10_000,
      onCommitted: this.onCommitted,
      onHookError: (error) => this.hookFailed(error),
      observer: options.observer,
    });
  }

  async createSession(input: CreateSessionInput): Promise<SessionRow> {
    if (!isUuid(input.id)) throw new InvalidEventError(`session id ${input.id} is not a UUID`);
    const metadata = storableJson(input.metadata ?? {}, 'metadata');
    const created = prepareEvents([
      { type: 'session.state', data: { from: null, to: 'CREATED', reason: 'created' } },
    ])[0];
    // The first event's created_at is the new row's last_event_at (partitioned-log.ts, rule 1).
    const result = await CREATE_SESSION.run(this.db, {
      id: input.id,
      agent: input.agent,
      metadata,
      event: created.json,
    });
    const [row] = await runNamed(
      'created session',
      this.db
        .select()
        .from(sessions)
        .where(sql`${sessions.id} = ${input.id}`),
    );
    this.bounds.note(row.id, row.createdAt);
    await this.committed(rowsOf<Parameters<typeof storedEvent>[0]>(result).map(storedEvent));
    return row;
  }

  async append(sessionId: string, events: NewEvent[], leaseEpoch?: number): Promise<StoredEvent[]> {
    const prepared = prepareEvents(events);
    for (const { event } of prepared) {
      if (event.type === 'message.user' || event.type === 'session.state') {
        throw new InvalidEventError(`${event.type} events are written by their own methods`);
      }
    }
    if (prepared.length === 0) return [];
    return this.submit(appendCommand(sessionId, prepared, leaseEpoch));
  }

  async appendUserMessage(
    sessionId: string,
    message: { clientMessageId: string; content: string },
  ): Promise<UserMessageResult> {
    return this.submit(messageCommand(sessionId, message));
  }

  async transition(
    sessionId: string,
    from: SessionState,
    to: SessionState,
    reason: string,
    leaseEpoch?: number,
  ): Promise<StoredEvent> {
    return this.submit(transitionCommand(sessionId, from, to, reason, { leaseEpoch }));
  }

  async requestInterrupt(
    sessionId: string,
  ): Promise<{ turnId: string | null; events: StoredEvent[] }> {
    return this.submit(interruptCommand(sessionId));
  }

  async release(lease: Lease, reason: string): Promise<SessionChange> {
    return this.submit(releaseCommand(lease.sessionId, lease.leaseEpoch, reason));
  }

  async end(sessionId: string, reason: string): Promise<SessionChange> {
    return this.submit(closeCommand(sessionId, 'ENDED', reason, 'interrupted'));
  }

  /** Claims up to `limit` sessions with pending input (`FOR UPDATE SKIP LOCKED`), in one commit. */
  async claim(owner: string, leaseMs: number, limit: number): Promise<SessionChange[]> {
    if (limit <= 0) return [];
    return this.pickAndWrite(
      (tx) =>
        runNamed(
          'claimable sessions',
          tx
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
            .for('update', { skipLocked: true }),
        ),
      (row) =>
        asChange(
          transitionCommand(row.id, row.state as SessionState, 'STARTING', 'claimed', {
            lease: (r) => ({ owner, leaseMs, leaseEpoch: r.leaseEpoch + 1 }),
          }),
        ),
    );
  }

  /** Detaches up to `limit` expired leases (open turn → `worker_lost`), in one commit. */
  async detachExpired(limit: number): Promise<SessionChange[]> {
    return this.pickAndWrite(
      (tx) =>
        runNamed(
          'expired leases',
          tx
            .select()
            .from(sessions)
            .where(
              and(
                isNotNull(sessions.owner),
                lt(sessions.leaseExpiresAt, sql`now()`),
                inArray(sessions.state, HELD as SessionState[]),
              ),
            )
            .limit(limit)
            .for('update', { skipLocked: true }),
        ),
      (row) => closeCommand(row.id, 'DETACHED', 'lease_expired', 'worker_lost'),
    );
  }

  /**
   * Extends leases in one statement (rows locked in id order); returns the ids still held. A lease
   * that already expired is not extended, even if no one detached it yet: its holder was cut off
   * for longer than the lease, so the session goes to the sweep (open turn → `worker_lost`).
   */
  async renew(owner: string, leases: readonly Lease[], leaseMs: number): Promise<Set<string>> {
    if (leases.length === 0) return new Set();
    const result = await RENEW_LEASES.run(this.db, {
      sessionIds: leases.map((l) => l.sessionId),
      epochs: leases.map((l) => l.leaseEpoch),
      owner,
      leaseMs,
    });
    return new Set(rowsOf<{ id: string }>(result).map((r) => r.id));
  }

  private async submit<R>(command: SessionCommand<R>): Promise<R> {
    if (!isUuid(command.sessionId)) throw new SessionNotFoundError(command.sessionId);
    return this.pipeline.submit(command);
  }

  /** A transaction that picks and locks its rows itself, then writes through the locked path. */
  private async pickAndWrite(
    pick: (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) => Promise<SessionRow[]>,
    command: (row: SessionRow) => SessionCommand<SessionChange>,
  ): Promise<SessionChange[]> {
    const { outcome, rows } = await this.db.transaction(async (tx) => {
      const picked = await pick(tx);
      for (const row of picked) this.bounds.note(row.id, row.createdAt);
      const written = await lockedWrite(tx, picked.map(command), { locked: picked });
      return { outcome: written, rows: picked };
    });
    await this.committed(outcome.events);
    const out: SessionChange[] = [];
    outcome.settled.forEach((settled, i) => {
      if (settled.ok) out.push(settled.value() as SessionChange);
      else if ('error' in settled) {
        SessionWriter.log.warn(
          `session ${rows[i].id} skipped: ${(settled.error as Error).message}`,
        );
      }
    });
    return out;
  }

  /** Records committed events in the bounds (partitioned-log.ts, rule 3), session by session. */
  private noteEvents(events: readonly StoredEvent[]): void {
    const bySession = new Map<string, StoredEvent[]>();
    for (const event of events) {
      const list = bySession.get(event.sessionId) ?? [];
      list.push(event);
      bySession.set(event.sessionId, list);
    }
    for (const [sessionId, list] of bySession) this.bounds.noteEvents(sessionId, list);
  }

  private async committed(events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.onCommitted(events);
    } catch (error) {
      this.hookFailed(error);
    }
  }

  private hookFailed(error: unknown): void {
    SessionWriter.log.error(
      `onCommitted failed (the write is committed): ${(error as Error)?.stack ?? error}`,
    );
  }
}

/** The same command, answering with the session row after it and its events. */
function asChange(command: SessionCommand<unknown>): SessionCommand<SessionChange> {
  return {
    sessionId: command.sessionId,
    clientMessageId: command.clientMessageId,
    decide: (row, batch) => {
      const decision = command.decide(row, batch);
      return { ...decision, result: (stored, session) => ({ session, events: stored }) };
    },
  };
}
