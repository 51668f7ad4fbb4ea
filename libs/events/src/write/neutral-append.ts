import { sql } from 'drizzle-orm';
import type { StoredEvent } from '@sessionwire/transport/protocol';
import { SessionEndedError, SessionNotFoundError, StaleLeaseError } from '../errors';
import { storedEvent } from './event-validation';
import { bySessionAndSeq, rowsOf } from './locked-write';
import type { Executor, SessionCommand, Settled, WriteOutcome } from './session-command';

type Refusal = 'missing' | 'stale' | 'ended' | 'busy';

/**
 * The hot path: appends of row-neutral events (deltas, tool calls, errors, …) to many sessions in
 * ONE statement, so one round trip and one commit for the whole batch. The statement locks the
 * sessions in id order, keeps the requests that pass their checks (the session exists, is not
 * ENDED, and is held under the request's lease epoch), bumps each session's head by the events it
 * keeps, and inserts them at the seqs below the new head in request order: per session, seqs are
 * gap-free, in submission order, and committed in order. Refused requests write nothing and are
 * reported with their reason; the rest commit. With `wait: false` a session locked by another
 * transaction is left out (`busy`) instead of stalling the whole batch behind that lock.
 *
 * Every command must have `neutral` set.
 */
export async function neutralAppend(
  db: Executor,
  commands: readonly SessionCommand<unknown>[],
  wait: boolean,
): Promise<WriteOutcome> {
  const requests = commands.map((command, i) => {
    const { events, leaseEpoch } = command.neutral!;
    const values = events.map((e) => `{"type":"${e.event.type}","data":${e.json}}`).join(',');
    return `{"i":${i},"s":"${command.sessionId}","e":${leaseEpoch ?? 'null'},"v":[${values}]}`;
  });
  const result = await db.execute(sql`
    with req as materialized (
      select r.i, r.s, r.e, r.v, jsonb_array_length(r.v) as n
      from jsonb_to_recordset(${`[${requests.join(',')}]`}::jsonb) as r(i int, s uuid, e int, v jsonb)
    ), locked as materialized (
      select id, state, lease_epoch from sessions
      where id in (select s from req)
      order by id
      for update ${sql.raw(wait ? '' : 'skip locked')}
    ), ok as materialized (
      select req.i, req.s, req.v, req.n,
             sum(req.n) over (partition by req.s order by req.i) - req.n as before
      from req join locked l on l.id = req.s
      where l.state <> 'ENDED' and (req.e is null or req.e = l.lease_epoch)
    ), total as (
      select s, sum(n)::bigint as n from ok group by s
    ), bumped as (
      update sessions t set head_seq = t.head_seq + total.n, updated_at = now()
      from total where t.id = total.s
      returning t.id, t.head_seq
    ), inserted as (
      insert into events (session_id, seq, type, data)
      select ok.s, b.head_seq - total.n + ok.before + ev.ord, ev.value->>'type', ev.value->'data'
      from ok
        join total on total.s = ok.s
        join bumped b on b.id = ok.s
        cross join lateral jsonb_array_elements(ok.v) with ordinality as ev(value, ord)
      returning session_id, seq, type, data, created_at
    )
    select
      (select coalesce(jsonb_agg(to_jsonb(inserted)), '[]'::jsonb) from inserted) as events,
      (select coalesce(jsonb_agg(jsonb_build_object('i', req.i, 'why',
         case when l.id is null then
                case when exists (select 1 from sessions x where x.id = req.s) then 'busy'
                     else 'missing' end
              when req.e is not null and req.e <> l.lease_epoch then 'stale'
              else 'ended' end)), '[]'::jsonb)
       from req left join locked l on l.id = req.s
       where not exists (select 1 from ok where ok.i = req.i)) as refused`);
  const [out] = rowsOf<{
    events: Parameters<typeof storedEvent>[0][];
    refused: { i: number; why: Refusal }[];
  }>(result);
  const events = out.events.map(storedEvent).sort(bySessionAndSeq);
  const refused = new Map(out.refused.map((r) => [r.i, r.why]));
  const bySession = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const list = bySession.get(event.sessionId) ?? [];
    list.push(event);
    bySession.set(event.sessionId, list);
  }
  const taken = new Map<string, number>();
  const settled: Settled<unknown>[] = commands.map((command, i) => {
    const why = refused.get(i);
    if (why === 'busy') return { ok: false, busy: true };
    if (why) return { ok: false, error: refusal(why, command) };
    const offset = taken.get(command.sessionId) ?? 0;
    const count = command.neutral!.events.length;
    taken.set(command.sessionId, offset + count);
    const stored = bySession.get(command.sessionId)!.slice(offset, offset + count);
    return { ok: true, value: () => stored };
  });
  return { settled, events };
}

function refusal(why: Exclude<Refusal, 'busy'>, command: SessionCommand<unknown>): Error {
  switch (why) {
    case 'missing':
      return new SessionNotFoundError(command.sessionId);
    case 'stale':
      return new StaleLeaseError(command.sessionId, command.neutral!.leaseEpoch!);
    case 'ended':
      return new SessionEndedError(command.sessionId);
  }
}
