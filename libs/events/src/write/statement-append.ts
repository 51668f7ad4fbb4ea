import { sql } from 'drizzle-orm';
import type { StoredEvent } from '@sessionwire/transport/protocol';
import {
  DomainError,
  SessionEndedError,
  SessionNotFoundError,
} from '@sessionwire/transport/protocol/domain-errors';
import { StaleLeaseError } from '../errors';
import { contentSha256, type MessageKey } from '../message-key-lookup';
import { NamedStatement } from '../named-statement';
import { nextEventAt } from '../partitioned-log';
import { storedEvent } from './event-validation';
import { bySessionAndSeq, rowsOf } from './locked-write';
import type {
  Executor,
  SessionCommand,
  Settled,
  StatementForm,
  WriteOutcome,
} from './session-command';

type Refusal = 'missing' | 'stale' | 'ended' | 'busy';
type EventRow = Parameters<typeof storedEvent>[0];

/** The statement; `wait: false` leaves sessions locked by another transaction out (`busy`). */
const appendStatement = (wait: boolean) =>
  new NamedStatement<{ requests: string }>(
    () =>
      sql`
      with req as materialized (
        -- A message's key looked up in message_keys (partitioned-log.ts, rule 2): one index probe.
        select r.i, r.s, r.e, r.c, r.v, jsonb_array_length(r.v) as n,
               k.seq as dup_seq, k.created_at as dup_at, encode(k.content_sha256, 'hex') as dup_sha
        from jsonb_to_recordset(${sql.placeholder('requests')}::jsonb)
          as r(i int, s uuid, e int, c text, v jsonb)
        left join lateral (
          select x.seq, x.created_at, x.content_sha256 from message_keys x
          where r.c is not null and x.session_id = r.s and x.client_message_id = r.c
          limit 1
        ) k on true
      ), locked as materialized (
        select id, state, lease_epoch from sessions
        where id in (select s from req)
        order by id
        for update ${sql.raw(wait ? '' : 'skip locked')}
      ), checked as materialized (
        select req.i, req.s, req.c, req.v, req.n, req.dup_seq, req.dup_at, req.dup_sha,
          case when l.id is null then
                 case when exists (select 1 from sessions x where x.id = req.s) then 'busy'
                      else 'missing' end
               when req.dup_seq is not null then 'dup'
               when req.e is not null and req.e <> l.lease_epoch then 'stale'
               when l.state = 'ENDED' then 'ended'
               else 'ok' end as verdict
        from req left join locked l on l.id = req.s
      ), ok as (
        select i, s, c, v, n, sum(n) over (partition by s order by i) - n as before
        from checked where verdict = 'ok'
      ), evs as materialized (
        -- Each event once, with its place among its session's events in this statement (k = 1, …).
        select ok.s, ok.before + ev.ord as k, ev.value
        from ok cross join lateral jsonb_array_elements(ok.v) with ordinality as ev(value, ord)
      ), total as (
        -- Per session: how many events, and where its last message lands.
        select ok.s, sum(ok.n)::bigint as n,
               max(case when ok.c is not null then ok.before + ok.n end)::bigint as input_at
        from ok group by ok.s
      ), bumped as (
        -- The rows are locked (\`locked\`). Head and created_at are decided here, under the lock,
        -- and the events take both from this update (partitioned-log.ts, rule 1).
        update sessions set
          head_seq = sessions.head_seq + total.n,
          last_input_seq = coalesce(sessions.head_seq + total.input_at, sessions.last_input_seq),
          activity = case when total.input_at is null then sessions.activity else 'running' end,
          last_event_at = ${nextEventAt()},
          updated_at = now()
        from total where sessions.id = total.s
        returning sessions.id, sessions.head_seq - total.n as after_seq, sessions.last_event_at
      ), inserted as (
        insert into events (session_id, seq, type, data, client_message_id, created_at)
        select b.id, b.after_seq + e.k, e.value->>'type', e.value->'data', e.value->>'c',
               b.last_event_at
        from bumped b join evs e on e.s = b.id
        returning session_id, seq, type, data, created_at
      )
      select
        (select coalesce(json_agg(inserted), '[]'::json) from inserted) as events,
        (select coalesce(jsonb_agg(jsonb_build_object('i', i, 'why', verdict, 'seq', dup_seq,
           'created_at', dup_at, 'sha', dup_sha)), '[]'::jsonb)
         from checked where verdict <> 'ok') as refused`,
  );
const APPEND_WAITING = appendStatement(true);
const APPEND_SKIPPING_LOCKED = appendStatement(false);

/**
 * The hot path: appends of many sessions in ONE statement, so one round trip and one commit for the
 * whole batch. It takes what the effects table lets it apply: row-neutral events (only the head
 * moves) and `message.user` (the head moves, `last_input_seq` becomes its seq, the session runs).
 * The statement locks the sessions in id order, answers a message whose `clientMessageId` is
 * already in `message_keys` with the event it names (before any other check, also once ENDED, also
 * when retention dropped the event; the content is compared by SHA-256), keeps the requests that
 * pass their checks (the session exists, is not ENDED, and is held under the request's lease
 * epoch), bumps each session's head by the events it keeps, moves its `last_event_at` by the
 * created_at rule, and inserts the events at the seqs below the new head in request order, all
 * with that `created_at`: per session, seqs are gap-free, in submission order, and committed in
 * order. Refused requests write nothing and are reported with their reason; the rest commit.
 * Two writes of one `clientMessageId` in one batch are one request: the second is its duplicate.
 * The key lookup sees the statement's snapshot, taken before the row locks were granted: a
 * message stored by another process in between makes the `events_message_key` trigger fail the
 * whole statement on `message_keys`' primary key, writing nothing (the pipeline then retries the
 * batch on the locked path, which reads the keys under the locks).
 * With `wait: false` a session locked by another transaction is left out (`busy`).
 *
 * Every command must have `statement` set.
 */
export async function statementAppend(
  db: Executor,
  commands: readonly SessionCommand<unknown>[],
  wait: boolean,
): Promise<WriteOutcome> {
  const forms = commands.map((c) => c.statement!);
  // A second write of one (session, clientMessageId) follows the first: same request.
  const leaders = new Map<string, number>();
  const leaderOf = forms.map((form, i) => {
    if (!form.message) return i;
    const key = `${commands[i].sessionId}\n${form.message.clientMessageId}`;
    const first = leaders.get(key);
    if (first === undefined) leaders.set(key, i);
    return first ?? i;
  });
  const requests: string[] = [];
  forms.forEach((form, i) => {
    if (leaderOf[i] !== i) return;
    const cmid = form.message ? JSON.stringify(form.message.clientMessageId) : 'null';
    // `c`: the key on the message.user event itself (client_message_id of that row only)
    const values = form.events
      .map((e) => {
        const key = e.event.type === 'message.user' ? `,"c":${cmid}` : '';
        return `{"type":"${e.event.type}","data":${e.json}${key}}`;
      })
      .join(',');
    requests.push(
      `{"i":${i},"s":"${commands[i].sessionId}","e":${form.leaseEpoch ?? 'null'},"c":${cmid},"v":[${values}]}`,
    );
  });
  const statement = wait ? APPEND_WAITING : APPEND_SKIPPING_LOCKED;
  const result = await statement.run(db, { requests: `[${requests.join(',')}]` });
  const [out] = rowsOf<{ events: EventRow[]; refused: RefusedRow[] }>(result);
  const events = out.events.map(storedEvent).sort(bySessionAndSeq);
  const refused = new Map(out.refused.map((r) => [r.i, r]));
  const bySession = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const list = bySession.get(event.sessionId) ?? [];
    list.push(event);
    bySession.set(event.sessionId, list);
  }
  const taken = new Map<string, number>();
  /** The key each leader message ends up stored under: found in message_keys, or written now. */
  const keys = new Map<number, MessageKey>();
  const settled: Settled<unknown>[] = commands.map((command, i) => {
    const leader = leaderOf[i];
    const verdict = refused.get(leader);
    const form = forms[i];
    if (verdict?.why === 'busy') return { ok: false, busy: true };
    if (verdict?.why === 'dup') {
      const key = {
        seq: Number(verdict.seq),
        createdAt: new Date(verdict.created_at!).toISOString(),
        contentSha256: verdict.sha!,
      };
      return answer(() => form.result([], key));
    }
    if (verdict)
      return { ok: false, error: refusal(verdict.why, command.sessionId, forms[leader]) };
    if (leader !== i) {
      // The same message twice in this batch: the second is a duplicate of the first.
      return answer(() => form.result([], keys.get(leader)));
    }
    const offset = taken.get(command.sessionId) ?? 0;
    const count = form.events.length;
    taken.set(command.sessionId, offset + count);
    const mine = bySession.get(command.sessionId)!.slice(offset, offset + count);
    if (form.message) {
      keys.set(i, {
        seq: mine[0].seq,
        createdAt: mine[0].createdAt,
        contentSha256: contentSha256(form.message.content),
      });
    }
    return answer(() => form.result(mine));
  });
  return { settled, events };
}

interface RefusedRow {
  i: number;
  why: Refusal | 'dup';
  seq: number | string | null;
  created_at: string | null;
  sha: string | null;
}

/** Runs `result` now: a DomainError it throws (an idempotency conflict) refuses that caller. */
function answer(result: () => unknown): Settled<unknown> {
  try {
    const value = result();
    return { ok: true, value: () => value };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { ok: false, error };
  }
}

function refusal(
  why: Exclude<Refusal, 'busy'>,
  sessionId: string,
  form: StatementForm<unknown>,
): Error {
  switch (why) {
    case 'missing':
      return new SessionNotFoundError(sessionId);
    case 'stale':
      return new StaleLeaseError(sessionId, form.leaseEpoch!);
    case 'ended':
      return new SessionEndedError(sessionId);
  }
}
