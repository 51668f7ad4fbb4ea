import { sql } from 'drizzle-orm';
import type { StoredEvent } from '@sessionwire/transport/protocol';
import type { Database } from './database';
import { NamedStatement } from './named-statement';
import type { SessionBounds } from './session-bounds';
import { storedEvent } from './write/event-validation';
import { rowsOf } from './write/locked-write';

/** A stored `message.user`. */
export type UserMessageEvent = StoredEvent & { type: 'message.user' };

/** One read of {@link eventsAfterMany}. */
export interface EventsAfter {
  sessionId: string;
  afterSeq: number;
  limit: number;
}

/** One read of {@link nextInputsMany}: the session's first `message.user` above `afterSeq`. */
export interface InputAfter {
  sessionId: string;
  afterSeq: number;
}

/** A range of one session's seqs, `(afterSeq, toSeq]`, for {@link interruptRequests}. */
export interface InterruptRange {
  sessionId: string;
  afterSeq: number;
  toSeq: number;
}

const EVENTS_AFTER_MANY = new NamedStatement<{
  sessionIds: string[];
  afterSeqs: number[];
  limits: number[];
  sinces: string[];
}>(
  () =>
    sql`
      select r.ord, e.session_id, e.seq, e.type, e.data, e.created_at
      from unnest(${sql.placeholder('sessionIds')}::uuid[],
                  ${sql.placeholder('afterSeqs')}::bigint[],
                  ${sql.placeholder('limits')}::int[],
                  ${sql.placeholder('sinces')}::timestamptz[])
        with ordinality as r(session_id, after_seq, lim, since, ord)
      cross join lateral (
        select * from events e
        where e.session_id = r.session_id and e.created_at >= r.since and e.seq > r.after_seq
        order by e.seq limit r.lim
      ) e
      order by r.ord, e.seq`,
);

/**
 * Many reads in one query: for each, what `getEventsAfter` would return, in the same order as
 * `reads` (a `unnest` of the reads with a lateral index scan each). Each read carries its own
 * session's `created_at` bound, so each lateral scan visits only that session's recent partitions
 * (pruned at run time); the bounds of sessions not seen before cost one more query, for all.
 */
export async function eventsAfterMany(
  db: Database,
  bounds: SessionBounds,
  reads: readonly EventsAfter[],
): Promise<StoredEvent[][]> {
  const out: StoredEvent[][] = reads.map(() => []);
  if (reads.length === 0) return out;
  const since = await bounds.ofMany(reads);
  const present = reads.flatMap((read, i) => (since[i] ? [{ ...read, i, since: since[i] }] : []));
  if (present.length === 0) return out;
  const result = await EVENTS_AFTER_MANY.run(db, {
    sessionIds: present.map((r) => r.sessionId),
    afterSeqs: present.map((r) => r.afterSeq),
    limits: present.map((r) => r.limit),
    sinces: present.map((r) => r.since.toISOString()),
  });
  for (const row of rowsOf<Parameters<typeof storedEvent>[0] & { ord: string | number }>(result)) {
    out[present[Number(row.ord) - 1].i].push(storedEvent(row));
  }
  present.forEach((read) => bounds.noteEvents(read.sessionId, out[read.i]));
  return out;
}

const INTERRUPT_REQUESTS = new NamedStatement<{
  sessionIds: string[];
  afterSeqs: number[];
  toSeqs: number[];
  sinces: string[];
}>(
  () =>
    sql`
      select r.session_id, e.data->>'turnId' as turn_id
      from unnest(${sql.placeholder('sessionIds')}::uuid[],
                  ${sql.placeholder('afterSeqs')}::bigint[],
                  ${sql.placeholder('toSeqs')}::bigint[],
                  ${sql.placeholder('sinces')}::timestamptz[])
        as r(session_id, after_seq, to_seq, since)
      cross join lateral (
        select e.seq, e.data from events e
        where e.session_id = r.session_id and e.created_at >= r.since
          and e.seq > r.after_seq and e.seq <= r.to_seq
          and e.type = 'interrupt.requested' and e.data->>'turnId' is not null
      ) e
      order by r.session_id, e.seq`,
);

const NEXT_INPUTS = new NamedStatement<{
  sessionIds: string[];
  afterSeqs: number[];
  sinces: string[];
}>(
  () =>
    sql`
      select r.ord, e.session_id, e.seq, e.type, e.data, e.created_at
      from unnest(${sql.placeholder('sessionIds')}::uuid[],
                  ${sql.placeholder('afterSeqs')}::bigint[],
                  ${sql.placeholder('sinces')}::timestamptz[])
        with ordinality as r(session_id, after_seq, since, ord)
      cross join lateral (
        select * from events e
        where e.session_id = r.session_id and e.created_at >= r.since and e.seq > r.after_seq
          and e.type = 'message.user'
        order by e.seq limit 1
      ) e`,
);

/**
 * For each read, the session's first `message.user` above its `afterSeq` (undefined when none
 * waits), in the order of `reads`, in one query: what a worker reads before each turn.
 */
export async function nextInputsMany(
  db: Database,
  bounds: SessionBounds,
  reads: readonly InputAfter[],
): Promise<(UserMessageEvent | undefined)[]> {
  const out: (UserMessageEvent | undefined)[] = reads.map(() => undefined);
  if (reads.length === 0) return out;
  const since = await bounds.ofMany(reads);
  const present = reads.flatMap((read, i) => (since[i] ? [{ ...read, i, since: since[i] }] : []));
  if (present.length === 0) return out;
  const result = await NEXT_INPUTS.run(db, {
    sessionIds: present.map((r) => r.sessionId),
    afterSeqs: present.map((r) => r.afterSeq),
    sinces: present.map((r) => r.since.toISOString()),
  });
  for (const row of rowsOf<Parameters<typeof storedEvent>[0] & { ord: string | number }>(result)) {
    out[present[Number(row.ord) - 1].i] = storedEvent(row) as UserMessageEvent;
  }
  return out;
}

/**
 * The turns whose interrupt was requested in `(afterSeq, toSeq]` of each session, in one query
 * (the worker's poll for interrupt hints it may have missed); sessions with none are absent.
 */
export async function interruptRequests(
  db: Database,
  bounds: SessionBounds,
  ranges: readonly InterruptRange[],
): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  if (ranges.length === 0) return found;
  const since = await bounds.ofMany(ranges);
  const present = ranges.flatMap((range, i) => (since[i] ? [{ ...range, since: since[i] }] : []));
  if (present.length === 0) return found;
  const result = await INTERRUPT_REQUESTS.run(db, {
    sessionIds: present.map((r) => r.sessionId),
    afterSeqs: present.map((r) => r.afterSeq),
    toSeqs: present.map((r) => r.toSeq),
    sinces: present.map((r) => r.since.toISOString()),
  });
  for (const row of rowsOf<{ session_id: string; turn_id: string }>(result)) {
    const list = found.get(row.session_id) ?? [];
    list.push(row.turn_id);
    found.set(row.session_id, list);
  }
  return found;
}
