import {
  bigint,
  customType,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { sessions } from './sessions.table';

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });

/**
 * The idempotency keys of user messages, unpartitioned, so they outlive the partition of the
 * event they name (retention never removes a key).
 *
 * Invariants:
 * - One row per `(session_id, client_message_id)`: a second `message.user` with the same key
 *   fails its insert (the row is written by the `events_message_key` trigger on `events`).
 * - `seq` and `created_at` are those of the event; `content_sha256` is SHA-256 of its content's
 *   UTF-8 bytes, so a retry can be told from a conflict after the event itself was removed.
 */
export const messageKeys = pgTable(
  'message_keys',
  {
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    clientMessageId: text('client_message_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    contentSha256: bytea('content_sha256').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.clientMessageId] })],
);

export type MessageKeyRow = typeof messageKeys.$inferSelect;
