/**
 * The constraints of the partitioned log (migration 0002) that every writer and reader of `events`
 * in this library keeps. A new append or read path (group commit, batched reads) must keep them
 * too; the tests named after a rule check it.
 *
 * 1. The created_at rule. `events` is range-partitioned by `created_at` and retention drops the
 *    oldest partitions whole, which removes a prefix of each session's log only if `created_at`
 *    never decreases along its seqs. So every insert takes `created_at` from the session row,
 *    in the statement or transaction that bumps `head_seq` under the row's lock:
 *    `last_event_at = greatest(clock_timestamp(), last_event_at)`, then every event of that
 *    append gets the new `last_event_at`. Never `now()` (the transaction's start: two appends
 *    around midnight could be stored out of seq order), never the column default, never a value
 *    computed in Node: {@link nextEventAt}. The insert reads it from the UPDATE's `RETURNING`
 *    in the same statement. (`statementAppend` for batches of many sessions, `writeRows` of the
 *    locked path, `SessionWriter.createSession`; partitioned-log.int-spec.ts,
 *    write/created-at.int-spec.ts.)
 * 2. The message_keys trigger. The idempotency key of a `message.user` cannot be a unique index on
 *    the partitioned `events` (Postgres wants the partition key in it), so it is the primary key
 *    of the unpartitioned `message_keys`, filled by the AFTER INSERT trigger `events_message_key`
 *    for each row with `client_message_id` set. A writer sets `client_message_id` on
 *    `message.user` only, never writes `message_keys` itself, and finds a retry in message_keys,
 *    not events (the original event may have been dropped): `findMessageKeys` on the locked path
 *    (after the statement that took the row locks), a lateral lookup in the one-statement append.
 *    Concurrent sends of one key serialize on the session row's lock, so the second finds the
 *    first's key; the primary key is the backstop (a duplicate fails the whole INSERT, so a batch
 *    of many sessions that hits it is retried on the locked path).
 *    (message-key-lookup.ts, write/statement-append.ts, write/locked-write.ts; migrator.int-spec.ts,
 *    partitioned-log.int-spec.ts, write/group-commit.int-spec.ts.)
 * 3. Bounded reads. Every read of one session's events adds `created_at >= bound`, the bound a
 *    parameter (`SessionBounds.of(sessionId, afterSeq)`), so Postgres prunes older partitions at
 *    planning time. The bound must be a lower bound of every row the read asks for: a read that
 *    skipped a stored row would look to the stream engine like history removed by retention (a
 *    page starting above `afterSeq + 1`) and send a false `history_expired` gap. It relies on
 *    rule 1. Writers and readers feed `SessionBounds.noteEvents` with the events they wrote or
 *    read (events of a transaction that then rolls back are harmless: their seqs are written
 *    again later, so the day recorded stays a lower bound). A read across sessions bounds each
 *    session by its own bound (`SessionBounds.ofMany`: one lookup for the sessions not known
 *    yet; `getEventsAfterMany` and `getInterruptRequests` pass one bound per read to a lateral
 *    scan, pruned at run time).
 *    (session-bounds.ts; stream-history-expired.int-spec.ts in apps/api.)
 * 4. Primary keys live on the partitions. `(session_id, seq)` is unique per partition, and across
 *    partitions only because seqs are assigned under the row lock; no `ON CONFLICT` on the parent
 *    can name it, and a constraint name (`events_pYYYYMMDD_pkey`) changes with the day.
 * 5. Gaps only at the start. After retention a session's stored seqs are `oldestSeq..head_seq`:
 *    a read may return a first seq above `afterSeq + 1`, which means those seqs were removed
 *    (`history_expired`), never that the log has a hole. Sessions rows and heads stay.
 */
import { sql, type SQL } from 'drizzle-orm';
import { sessions } from './schema';

/**
 * Rule 1 as SQL: the new `sessions.last_event_at` of an append, which every event of the append
 * takes as its `created_at`. Only valid in the UPDATE of the session row that also moves its head
 * (the row's lock orders the appends).
 */
export function nextEventAt(): SQL {
  return sql`greatest(clock_timestamp(), ${sessions.lastEventAt})`;
}
