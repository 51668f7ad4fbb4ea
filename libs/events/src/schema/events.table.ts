import { sql } from 'drizzle-orm';
import {
  bigint,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { sessions } from './sessions.table';

/**
 * The log: immutable events, ordered per session by `seq`.
 *
 * Invariants:
 * - `(session_id, seq)` is the primary key; seqs of a session are exactly 1..sessions.head_seq.
 * - Rows are never updated or deleted; `seq` is the only cursor (never a global id).
 * - `client_message_id` is set on `message.user` events only and unique per session: the
 *   idempotency key of a user message.
 */
export const events = pgTable(
  'events',
  {
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    type: text('type').notNull(),
    data: jsonb('data').notNull(),
    clientMessageId: text('client_message_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.seq] }),
    uniqueIndex('events_client_message_id_uq')
      .on(t.sessionId, t.clientMessageId)
      .where(sql`${t.clientMessageId} is not null`),
  ],
);

export type EventRow = typeof events.$inferSelect;
