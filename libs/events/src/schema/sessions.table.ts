import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * One row per agent conversation.
 *
 * Invariants:
 * - `head_seq` is the highest `seq` in `events` for this session (≥ 1: creation writes seq 1).
 *   It is only changed in the transaction that inserts those events, under this row's lock, so
 *   seqs are assigned 1, 2, 3, … with no gap and no duplicate.
 * - `state` only moves along the protocol's transition table; every change writes a
 *   `session.state` event in the same transaction.
 * - `last_input_seq` is the seq of the newest `message.user`; `processed_seq` the seq of the newest
 *   `message.user` whose turn is closed. Input is pending while `last_input_seq > processed_seq`.
 * - `activity` is `running` iff a turn is open (`turn_id` set) or input is pending.
 * - `id` is a UUIDv7, so ordering by id is ordering by creation time (lists page by id).
 * - `last_event_at` is the `created_at` of the newest event (the next one gets
 *   `greatest(clock_timestamp(), last_event_at)`, so `created_at` never decreases along seqs).
 * - `lease_epoch` grows at every claim, release, detach and end; an append or transition that
 *   carries an older epoch is refused (fencing).
 */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey(),
    agent: text('agent').notNull(),
    state: text('state').notNull(),
    activity: text('activity').notNull().default('idle'),
    headSeq: bigint('head_seq', { mode: 'number' }).notNull().default(0),
    lastInputSeq: bigint('last_input_seq', { mode: 'number' }).notNull().default(0),
    processedSeq: bigint('processed_seq', { mode: 'number' }).notNull().default(0),
    turnId: uuid('turn_id'),
    turnInputSeq: bigint('turn_input_seq', { mode: 'number' }),
    owner: text('owner'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true, mode: 'date' }),
    leaseEpoch: integer('lease_epoch').notNull().default(0),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastEventAt: timestamp('last_event_at', { withTimezone: true, mode: 'date' })
      .notNull()
      .defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('sessions_state_id_idx').on(t.state, t.id.desc()),
    index('sessions_pending_idx')
      .on(t.lastInputSeq)
      .where(sql`${t.lastInputSeq} > ${t.processedSeq} and ${t.state} <> 'ENDED'`),
    index('sessions_lease_idx')
      .on(t.leaseExpiresAt)
      .where(sql`${t.owner} is not null`),
    check(
      'sessions_state_check',
      sql`${t.state} in ('CREATED','STARTING','ACTIVE','SUSPENDED','DETACHED','ENDED')`,
    ),
    check('sessions_activity_check', sql`${t.activity} in ('idle','running')`),
  ],
);

export type SessionRow = typeof sessions.$inferSelect;
