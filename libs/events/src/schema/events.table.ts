import { sql } from 'drizzle-orm';
import { bigint, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { sessions } from './sessions.table';

/**
 * The log: immutable events, ordered per session by `seq`. Range-partitioned by `created_at`
 * (migration 0002): one partition per UTC day (`events_pYYYYMMDD`), `events_legacy` for the rows
 * written before the migration, and `events_default` for anything no partition covers. Partitions
 * are created ahead and dropped whole by `retention` (see `partition-maintenance.ts`).
 *
 * Invariants:
 * - Seqs of a session are exactly `oldestSeq..sessions.head_seq`, with no gap: retention only
 *   ever removes a prefix (all rows older than one instant), never rows in the middle.
 * - `created_at` never decreases along a session's seqs: every writer sets it to
 *   `greatest(clock_timestamp(), sessions.last_event_at)` under the session row's lock and stores
 *   it back in `last_event_at`. So a partition holds one contiguous seq range per session, and
 *   dropping the oldest partitions removes a prefix.
 * - `(session_id, seq)` is the primary key of every partition (Postgres refuses a unique
 *   constraint without the partition key on the partitioned table itself); the seq assignment
 *   under the row lock keeps it unique across partitions.
 * - Rows are never updated; they leave only with their partition. `seq` is the only cursor.
 * - `client_message_id` is set on `message.user` events only. Its uniqueness per session (the
 *   idempotency key of a user message) lives in the unpartitioned `message_keys`, filled by the
 *   trigger `events_message_key` on every insert, so it outlives the event's partition.
 */
export const events = pgTable('events', {
  sessionId: uuid('session_id')
    .notNull()
    .references(() => sessions.id, { onDelete: 'cascade' }),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  type: text('type').notNull(),
  data: jsonb('data').notNull(),
  clientMessageId: text('client_message_id'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' })
    .notNull()
    .default(sql`clock_timestamp()`),
});

export type EventRow = typeof events.$inferSelect;
