import { asc, sql } from 'drizzle-orm';
import type { SessionState, StoredEvent } from '@sessionwire/transport/protocol';
import { DomainError } from '@sessionwire/transport/protocol/domain-errors';
import { contentSha256, findMessageKeys, messageKeyOf } from '../message-key-lookup';
import { NamedStatement, runNamed } from '../named-statement';
import { nextEventAt } from '../partitioned-log';
import { sessions, type SessionRow } from '../schema';
import { applyEvents } from '../session-effects';
import { storedEvent } from './event-validation';
import type {
  BatchContext,
  Executor,
  KnownMessage,
  SessionCommand,
  Settled,
  WriteOutcome,
} from './session-command';

/**
 * Locks the sessions' rows in id order and returns them; with `wait: false` rows locked by another
 * transaction are skipped instead of waited for. Library-internal: the locks end with `tx`.
 */
export async function lockSessions(
  tx: Executor,
  ids: readonly string[],
  wait: boolean,
): Promise<SessionRow[]> {
  if (ids.length === 0) return [];
  return runNamed(
    wait ? 'lock sessions' : 'lock sessions, skip locked',
    tx
      .select()
      .from(sessions)
      .where(sql`${sessions.id} = any(${sql.param([...new Set(ids)])}::uuid[])`)
      .orderBy(asc(sessions.id))
      .for('update', wait ? {} : { skipLocked: true }),
  );
}

/** Of `ids` (none of them locked by us), those that exist: another transaction holds them. */
async function existing(tx: Executor, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await runNamed(
    'sessions that exist',
    tx
      .select({ id: sessions.id })
      .from(sessions)
      .where(sql`${sessions.id} = any(${sql.param(ids)}::uuid[])`),
  );
  return new Set(rows.map((r) => r.id));
}

interface Planned {
  index: number;
  sessionId: string;
  firstSeq: number;
  count: number;
  after: SessionRow;
  result: (stored: StoredEvent[], row: SessionRow, find: Find) => unknown;
}
type Find = (sessionId: string, seq: number) => StoredEvent;

/**
 * The locked path of every write: within the caller's transaction, locks the commands' sessions
 * (unless `locked` rows are given, already locked by the caller), decides each command in order on
 * its working row, folds the events through the effects table, and writes every event and every
 * changed row in one statement. A refused command changes nothing and refuses only its caller.
 */
export async function lockedWrite(
  tx: Executor,
  commands: readonly SessionCommand<unknown>[],
  options: { locked?: readonly SessionRow[]; wait?: boolean } = {},
): Promise<WriteOutcome> {
  const wait = options.wait ?? true;
  const rows =
    options.locked ??
    (await lockSessions(
      tx,
      commands.map((c) => c.sessionId),
      wait,
    ));
  const lockedIds = new Set(rows.map((r) => r.id));
  const busy =
    options.locked || wait
      ? new Set<string>()
      : await existing(
          tx,
          [...new Set(commands.map((c) => c.sessionId))].filter((id) => !lockedIds.has(id)),
        );
  const working = new Map(rows.map((row) => [row.id, { ...row, headSeq: Number(row.headSeq) }]));
  const known = await lookUpMessages(tx, commands);
  const batch: BatchContext = { message: (s, c) => known.messages.get(messageKeyOf(s, c)) };
  const settled: Settled<unknown>[] = [];
  const planned: Planned[] = [];
  /** Per session, its events as JSON object literals built from validated payloads. */
  const inserts = new Map<string, string[]>();
  const changed = new Map<string, { row: SessionRow; leaseMs?: number | null }>();
  commands.forEach((command, index) => {
    if (busy.has(command.sessionId)) {
      settled[index] = { ok: false, busy: true };
      return;
    }
    const row = working.get(command.sessionId);
    try {
      const decision = command.decide(row, batch);
      if (decision.events.length === 0) {
        settled[index] = { ok: true, value: () => decision.result([], row!, known.find) };
        return;
      }
      if (!row)
        throw new Error(`a command decided to write to missing session ${command.sessionId}`);
      let effects;
      try {
        effects = applyEvents(
          { ...row, state: row.state as SessionState },
          decision.events.map((e) => e.event),
        );
      } catch (error) {
        if (error instanceof DomainError) throw error;
        throw new DomainError('validation_failed', (error as Error).message);
      }
      const firstSeq = row.headSeq + 1;
      const lease = decision.lease
        ? { owner: decision.lease.owner, leaseEpoch: decision.lease.leaseEpoch }
        : {};
      const after: SessionRow = { ...row, ...effects, ...lease };
      decision.events.forEach((prepared, i) => {
        const cmid = prepared.event.type === 'message.user' ? decision.clientMessageId : undefined;
        const list = inserts.get(row.id) ?? [];
        list.push(
          `{"q":${firstSeq + i},"t":"${prepared.event.type}","d":${prepared.json},"c":${cmid === undefined ? 'null' : JSON.stringify(cmid)}}`,
        );
        inserts.set(row.id, list);
        if (cmid !== undefined) {
          known.messages.set(messageKeyOf(row.id, cmid), {
            seq: firstSeq + i,
            contentSha256: contentSha256((prepared.event.data as { content: string }).content),
          });
        }
      });
      changed.set(row.id, {
        row: after,
        leaseMs: decision.lease ? decision.lease.leaseMs : changed.get(row.id)?.leaseMs,
      });
      working.set(row.id, after);
      planned.push({
        index,
        sessionId: row.id,
        firstSeq,
        count: decision.events.length,
        after,
        result: decision.result,
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      settled[index] = { ok: false, error };
    }
  });
  if (planned.length === 0) return { settled, events: [] };
  const written = await writeRows(tx, inserts, [...changed.values()]);
  for (const event of written.events) known.stored.set(`${event.sessionId}\n${event.seq}`, event);
  for (const plan of planned) {
    const stored = Array.from({ length: plan.count }, (_, i) =>
      known.find(plan.sessionId, plan.firstSeq + i),
    );
    const committed = written.rows.get(plan.sessionId);
    const row = { ...plan.after, ...committed };
    settled[plan.index] = { ok: true, value: () => plan.result(stored, row, known.find) };
  }
  return { settled, events: written.events };
}

interface Known {
  messages: Map<string, KnownMessage>;
  stored: Map<string, StoredEvent>;
  find: Find;
}

/**
 * The message keys already stored under the commands' ids, from `message_keys` (partitioned-log.ts,
 * rule 2), read under the row locks; `find` looks up the events this batch stores.
 */
async function lookUpMessages(tx: Executor, commands: readonly SessionCommand<unknown>[]) {
  const stored = new Map<string, StoredEvent>();
  const find: Find = (sessionId, seq) => {
    const event = stored.get(`${sessionId}\n${seq}`);
    if (!event) throw new Error(`event ${seq} of session ${sessionId} is not in this batch`);
    return event;
  };
  const wanted = commands.flatMap((c) =>
    c.clientMessageId === undefined
      ? []
      : [{ sessionId: c.sessionId, clientMessageId: c.clientMessageId }],
  );
  const messages: Map<string, KnownMessage> = await findMessageKeys(tx, wanted);
  return { messages, stored, find } satisfies Known;
}

/** The locked path's one write: each session's new row and its events. */
const WRITE_ROWS = new NamedStatement<{ rows: string }>(
  () =>
    sql`
      with u as (
        update sessions set
          state = x.state, activity = x.activity, head_seq = x.head_seq,
          last_input_seq = x.last_input_seq, processed_seq = x.processed_seq,
          turn_id = x.turn_id, turn_input_seq = x.turn_input_seq,
          owner = x.owner, lease_epoch = x.lease_epoch,
          lease_expires_at = case
            when x.lease_ms is not null then now() + x.lease_ms * interval '1 millisecond'
            when x.lease_clear then null
            else sessions.lease_expires_at end,
          last_event_at = ${nextEventAt()},
          updated_at = now()
        from jsonb_to_recordset(${sql.placeholder('rows')}::jsonb) as x(
          id uuid, state text, activity text, head_seq bigint, last_input_seq bigint,
          processed_seq bigint, turn_id uuid, turn_input_seq bigint, owner text,
          lease_epoch int, lease_ms int, lease_clear boolean, evs jsonb)
        where sessions.id = x.id
        returning sessions.id, sessions.updated_at, sessions.lease_expires_at,
                  sessions.last_event_at, x.evs
      ), e as (
        insert into events (session_id, seq, type, data, client_message_id, created_at)
        select u.id, (ev->>'q')::bigint, ev->>'t', ev->'d', ev->>'c', u.last_event_at
        from u cross join lateral jsonb_array_elements(u.evs) as ev
        returning session_id, seq, type, data, created_at
      )
      select (select coalesce(jsonb_agg(to_jsonb(e)), '[]'::jsonb) from e) as events,
             (select coalesce(jsonb_agg(jsonb_build_object('id', id, 'updated_at', updated_at,
                'lease_expires_at', lease_expires_at, 'last_event_at', last_event_at)), '[]'::jsonb)
              from u) as rows`,
);

/**
 * Writes the changed rows' cursors and lease columns and inserts their events (`inserts`: per
 * session, JSON object literals of validated payloads), in one statement. The update moves each
 * row's `last_event_at` by the created_at rule under the row's lock, and the insert takes
 * `created_at` from that update (partitioned-log.ts, rule 1). Returns what Postgres stored.
 */
export async function writeRows(
  tx: Executor,
  inserts: ReadonlyMap<string, readonly string[]>,
  changed: readonly { row: SessionRow; leaseMs?: number | null }[],
): Promise<{ events: StoredEvent[]; rows: Map<string, Partial<SessionRow>> }> {
  const rows = changed.map(({ row, leaseMs }) => {
    const fields = JSON.stringify({
      id: row.id,
      state: row.state,
      activity: row.activity,
      head_seq: row.headSeq,
      last_input_seq: row.lastInputSeq,
      processed_seq: row.processedSeq,
      turn_id: row.turnId,
      turn_input_seq: row.turnInputSeq,
      owner: row.owner,
      lease_epoch: row.leaseEpoch,
      lease_ms: leaseMs ?? null,
      lease_clear: leaseMs === null,
    });
    return `${fields.slice(0, -1)},"evs":[${(inserts.get(row.id) ?? []).join(',')}]}`;
  });
  const result = await WRITE_ROWS.run(tx, { rows: `[${rows.join(',')}]` });
  const [out] = rowsOf<{ events: EventJson[]; rows: RowJson[] }>(result);
  const events = out.events.map(storedEvent).sort(bySessionAndSeq);
  const committed = new Map<string, Partial<SessionRow>>();
  for (const row of out.rows) {
    committed.set(row.id, {
      updatedAt: new Date(row.updated_at),
      lastEventAt: new Date(row.last_event_at),
      leaseExpiresAt: row.lease_expires_at === null ? null : new Date(row.lease_expires_at),
    });
  }
  return { events, rows: committed };
}

interface EventJson {
  session_id: string;
  seq: number;
  type: string;
  data: unknown;
  created_at: string;
}
interface RowJson {
  id: string;
  updated_at: string;
  last_event_at: string;
  lease_expires_at: string | null;
}

export function bySessionAndSeq(a: StoredEvent, b: StoredEvent): number {
  return a.sessionId === b.sessionId ? a.seq - b.seq : a.sessionId < b.sessionId ? -1 : 1;
}

/** node-postgres and PGlite both answer `execute` with `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
