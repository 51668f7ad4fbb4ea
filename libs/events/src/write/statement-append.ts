import { sql } from 'drizzle-orm';
import type { StoredEvent } from '@sessionwire/transport/protocol';
import {
  DomainError,
  SessionEndedError,
  SessionNotFoundError,
} from '@sessionwire/transport/protocol/domain-errors';
import { StaleLeaseError } from '../errors';
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

/**
 * The hot path: appends of many sessions in ONE statement, so one round trip and one commit for the
 * whole batch. It takes what the effects table lets it apply: row-neutral events (only the head
 * moves) and `message.user` (the head moves, `last_input_seq` becomes its seq, the session runs).
 * The statement locks the sessions in id order, answers a message whose `clientMessageId` is
 * already stored with that event (before any other check, also once ENDED), keeps the requests that
 * pass their checks (the session exists, is not ENDED, and is held under the request's lease
 * epoch), bumps each session's head by the events it keeps and inserts them at the seqs below the
 * new head in request order: per session, seqs are gap-free, in submission order, and committed in
 * order. Refused requests write nothing and are reported with their reason; the rest commit.
 * Two writes of one `clientMessageId` in one batch are one request: the second is its duplicate.
 * A message stored by another process after the statement's snapshot makes the statement fail on
 * the unique key, writing nothing (the pipeline then retries the batch on the locked path).
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
    const values = form.events.map((e) => `{"type":"${e.event.type}","data":${e.json}}`).join(',');
    const cmid = form.message ? JSON.stringify(form.message.clientMessageId) : 'null';
    requests.push(
      `{"i":${i},"s":"${commands[i].sessionId}","e":${form.leaseEpoch ?? 'null'},"c":${cmid},"v":[${values}]}`,
    );
  });
  const result = await db.execute(sql`
    with req as materialized (
      select r.i, r.s, r.e, r.c, r.v, jsonb_array_length(r.v) as n
      from jsonb_to_recordset(${`[${requests.join(',')}]`}::jsonb)
        as r(i int, s uuid, e int, c text, v jsonb)
    ), locked as materialized (
      select id, state, lease_epoch, head_seq from sessions
      where id in (select s from req)
      order by id
      for update ${sql.raw(wait ? '' : 'skip locked')}
    ), dup as materialized (
      select req.i, e.session_id, e.seq, e.type, e.data, e.created_at
      from req cross join lateral (
        select * from events x where x.session_id = req.s and x.client_message_id = req.c
      ) e
      where req.c is not null and req.s in (select id from locked)
    ), ok as materialized (
      select req.i, req.s, req.c, req.v, req.n, l.head_seq,
             sum(req.n) over (partition by req.s order by req.i) - req.n as before
      from req join locked l on l.id = req.s
      where l.state <> 'ENDED' and (req.e is null or req.e = l.lease_epoch)
        and not exists (select 1 from dup where dup.i = req.i)
    ), total as (
      select s, sum(n)::bigint as n,
             max(case when c is not null then before + n end)::bigint as input_at
      from ok group by s
    ), bumped as (
      -- The rows are locked: the head read in \`locked\` is the one this update moves.
      update sessions t set
        head_seq = t.head_seq + total.n,
        last_input_seq = coalesce(t.head_seq + total.input_at, t.last_input_seq),
        activity = case when total.input_at is null then t.activity else 'running' end,
        updated_at = now()
      from total where t.id = total.s
      returning t.id, t.head_seq
    ), inserted as (
      insert into events (session_id, seq, type, data, client_message_id)
      select ok.s, ok.head_seq + ok.before + ev.ord, ev.value->>'type', ev.value->'data',
             case when ev.value->>'type' = 'message.user' then ok.c end
      from ok cross join lateral jsonb_array_elements(ok.v) with ordinality as ev(value, ord)
      returning session_id, seq, type, data, created_at
    )
    select
      (select coalesce(jsonb_agg(to_jsonb(inserted)), '[]'::jsonb) from inserted) as events,
      (select coalesce(jsonb_agg(to_jsonb(dup)), '[]'::jsonb) from dup) as dups,
      (select coalesce(jsonb_agg(jsonb_build_object('i', req.i, 'why',
         case when l.id is null then
                case when exists (select 1 from sessions x where x.id = req.s) then 'busy'
                     else 'missing' end
              when req.e is not null and req.e <> l.lease_epoch then 'stale'
              else 'ended' end)), '[]'::jsonb)
       from req left join locked l on l.id = req.s
       where not exists (select 1 from ok where ok.i = req.i)
         and not exists (select 1 from dup where dup.i = req.i)) as refused`);
  const [out] = rowsOf<{
    events: EventRow[];
    dups: (EventRow & { i: number })[];
    refused: { i: number; why: Refusal }[];
  }>(result);
  const events = out.events.map(storedEvent).sort(bySessionAndSeq);
  const refused = new Map(out.refused.map((r) => [r.i, r.why]));
  const duplicates = new Map(out.dups.map((d) => [d.i, storedEvent(d)]));
  const bySession = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const list = bySession.get(event.sessionId) ?? [];
    list.push(event);
    bySession.set(event.sessionId, list);
  }
  const taken = new Map<string, number>();
  const stored = new Map<number, StoredEvent[]>();
  const settled: Settled<unknown>[] = commands.map((command, i) => {
    const leader = leaderOf[i];
    const why = refused.get(leader);
    if (why === 'busy') return { ok: false, busy: true };
    if (why) return { ok: false, error: refusal(why, command.sessionId, forms[leader]) };
    const form = forms[i];
    if (leader !== i) {
      // The same message twice in this batch: the second is a duplicate of the first.
      const first = duplicates.get(leader) ?? stored.get(leader)![0];
      return answer(() => form.result([], first));
    }
    const duplicate = duplicates.get(i);
    if (duplicate) return answer(() => form.result([], duplicate));
    const offset = taken.get(command.sessionId) ?? 0;
    const count = form.events.length;
    taken.set(command.sessionId, offset + count);
    const mine = bySession.get(command.sessionId)!.slice(offset, offset + count);
    stored.set(i, mine);
    return answer(() => form.result(mine));
  });
  return { settled, events };
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
