import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { maintainEventPartitions } from '../libs/events/src/partition-maintenance';
import type { TestDatabase } from './database';

const DAY_MS = 86_400_000;

/** Midday (UTC) of the day `daysAgo` days before today, plus `ms`. */
export function daysAgo(days: number, ms = 0): Date {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  return new Date(today - days * DAY_MS + DAY_MS / 2 + ms);
}

export async function withClient<T>(db: TestDatabase, fn: (client: Client) => Promise<T>) {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(`set timezone = 'UTC'`);
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Gives a fresh test database daily partitions for the past `days` days (and a week ahead), as a
 * deployment that has run retention every day would have: the empty `events_legacy` of the
 * template, which covers all of the past, is dropped first.
 */
export async function partitionPastDays(db: TestDatabase, days: number): Promise<void> {
  await withClient(db, async (client) => {
    await client.query('drop table if exists events_legacy');
    await maintainEventPartitions(client, {
      now: new Date(Date.now() - days * DAY_MS),
      aheadDays: days + 8,
    });
  });
}

export interface SeededSession {
  sessionId: string;
  /** `[seq, created_at]` of every event written, ascending. */
  events: [number, Date][];
  head: number;
}

/**
 * A session whose events were written in the past: `perDay` events on each of the given days
 * (`daysAgo`, oldest first), seq 1 a `session.state` and the rest deltas, with `created_at` set as
 * the store would have (never decreasing along seqs) and the session row to match.
 */
export async function seedSessionHistory(
  db: TestDatabase,
  days: number[],
  perDay: number,
): Promise<SeededSession> {
  const sessionId = randomUUID();
  const events: [number, Date][] = [];
  for (const day of days) {
    for (let i = 0; i < perDay; i++) events.push([events.length + 1, daysAgo(day, i * 1000)]);
  }
  const created = events[0][1];
  const last = events[events.length - 1][1];
  await withClient(db, async (client) => {
    await client.query(
      `insert into sessions (id, agent, state, head_seq, created_at, updated_at, last_event_at)
       values ($1, 'demo', 'ACTIVE', $2, $3, $4, $4)`,
      [sessionId, events.length, created, last],
    );
    await client.query(
      `insert into events (session_id, seq, type, data, created_at)
       select $1, seq, case when seq = 1 then 'session.state' else 'message.delta' end,
         case when seq = 1 then '{"from":null,"to":"ACTIVE","reason":"seeded"}'::jsonb
              else jsonb_build_object('turnId', 'seeded', 'text', 'd' || seq) end,
         at
       from unnest($2::bigint[], $3::timestamptz[]) as e(seq, at)`,
      [sessionId, events.map(([seq]) => seq), events.map(([, at]) => at)],
    );
  });
  return { sessionId, events, head: events.length };
}

/** Drops the daily partition of `daysAgo` (its rows, none yet, would then go to events_default). */
export async function dropDayPartition(db: TestDatabase, days: number): Promise<void> {
  const name = `events_p${daysAgo(days).toISOString().slice(0, 10).replaceAll('-', '')}`;
  await withClient(db, (client) => client.query(`drop table "${name}"`));
}
