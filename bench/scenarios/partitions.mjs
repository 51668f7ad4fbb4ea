// Scenario 5b: the append and read paths on the partitioned log (migration 0002: daily
// partitions by created_at, as after `days` days of nightly retention) against the same data in
// one unpartitioned table with the keys events had before (the previous layout), same code, same
// run, alternating. Appends: EventStore.append, one delta row per append (coalescing off, the
// most append-bound case; group commit takes the appends waiting at once into one statement).
// Reads: EventStore.getEventsAfter 50 events behind the head (a resume), for sessions created
// today and for long-lived sessions that wrote on every day of the window.
import { createRequire } from 'node:module';
import pg from 'pg';
import { Producer } from '../lib/producer.mjs';
import { adminQuery, createBenchDatabase } from '../lib/services.mjs';
import { ratio } from '../lib/stats.mjs';

const { maintainEventPartitions } = createRequire(import.meta.url)('../../libs/events/src/partition-maintenance');
const DAY_MS = 86_400_000;

/** Makes `events` one table again, keyed as before migration 0002. */
async function unpartition(db) {
  await adminQuery(
    `drop table events;
     create table events (
       session_id uuid not null references sessions(id) on delete cascade,
       seq bigint not null, type text not null, data jsonb not null, client_message_id text,
       created_at timestamptz not null default clock_timestamp(),
       primary key (session_id, seq));
     create unique index events_client_message_id_uq on events (session_id, client_message_id)
       where client_message_id is not null`,
    undefined,
    db.url,
  );
}

/** Daily partitions for the past `days` days and the week ahead, as nightly retention leaves them. */
async function partitionDays(db, days) {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(`set timezone = 'UTC'`);
    await client.query('drop table events_legacy'); // empty in a new database; covers all the past
    await maintainEventPartitions(client, { now: new Date(Date.now() - days * DAY_MS), aheadDays: days + 3 });
    const { rows } = await client.query(`select count(*)::int as n from pg_inherits where inhparent = 'events'::regclass`);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

/** The same history in both databases: short sessions on each past day, long-lived ones spanning all. */
async function seed(db, { days, perDay, eventsEach, longLived, perDayLong }) {
  await adminQuery(
    `insert into sessions (id, agent, state, head_seq, created_at, updated_at, last_event_at)
     select md5('s' || d || '-' || s)::uuid, 'demo', 'ACTIVE', ${eventsEach}, now() - d * interval '1 day',
       now() - d * interval '1 day', now() - d * interval '1 day' + ${eventsEach} * interval '1 second'
     from generate_series(1, ${days}) d, generate_series(1, ${perDay}) s;
     insert into events (session_id, seq, type, data, created_at)
     select md5('s' || d || '-' || s)::uuid, q, 'message.delta', '{"turnId":"t","text":"seeded "}',
       now() - d * interval '1 day' + q * interval '1 second'
     from generate_series(1, ${days}) d, generate_series(1, ${perDay}) s, generate_series(1, ${eventsEach}) q;
     insert into sessions (id, agent, state, head_seq, created_at, updated_at, last_event_at)
     select md5('l' || l)::uuid, 'long', 'ACTIVE', ${days * perDayLong}, now() - ${days} * interval '1 day',
       now(), now() - interval '1 day' + ${perDayLong} * interval '1 second'
     from generate_series(1, ${longLived}) l;
     insert into events (session_id, seq, type, data, created_at)
     select md5('l' || l)::uuid, (${days} - d) * ${perDayLong} + k, 'message.delta', '{"turnId":"t","text":"seeded "}',
       now() - d * interval '1 day' + k * interval '1 second'
     from generate_series(1, ${longLived}) l, generate_series(1, ${days}) d, generate_series(1, ${perDayLong}) k;
     analyze`,
    undefined,
    db.url,
  );
  const { rows } = await adminQuery(`select id from sessions where agent = 'long' order by id`, undefined, db.url);
  return rows.map((r) => r.id);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function partitionScenario(ctx) {
  const { quick } = ctx;
  const shape = quick
    ? { days: 3, perDay: 20, eventsEach: 20, longLived: 5, perDayLong: 10 }
    : { days: 30, perDay: 200, eventsEach: 100, longLived: 50, perDayLong: 20 };
  const concurrency = quick ? 2 : 8;
  const durationMs = quick ? 1000 : 5000;
  const rounds = quick ? 1 : 3;
  const systems = {};
  const created = [];
  try {
    for (const key of ['oneTable', 'partitioned']) {
      const db = await createBenchDatabase();
      created.push(db);
      const partitions = key === 'partitioned' ? await partitionDays(db, shape.days) : 1;
      if (key === 'oneTable') await unpartition(db);
      const longLivedIds = await seed(db, shape);
      const producer = new Producer('producers/log-producer.mjs', `log-producer-${key}`);
      const { sessionIds } = await producer.request({ cmd: 'setup', databaseUrl: db.url, sessions: concurrency });
      systems[key] = { db, producer, sessionIds, longLivedIds, partitions, append: [], readRecent: [], readLongLived: [] };
    }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['oneTable', 'partitioned'] : ['partitioned', 'oneTable'];
      for (const key of order) {
        const s = systems[key];
        s.append.push((await s.producer.request({ cmd: 'append-max', durationMs, concurrency })).rowsPerSec);
        s.readRecent.push((await s.producer.request({ cmd: 'read-max', durationMs, sessionIds: s.sessionIds, behind: 50 })).readsPerSec);
        s.readLongLived.push((await s.producer.request({ cmd: 'read-max', durationMs, sessionIds: s.longLivedIds, behind: 50 })).readsPerSec);
      }
    }
    const figures = (s) => ({
      partitions: s.partitions,
      appendRowsPerSec: median(s.append),
      readsPerSecRecentSessions: median(s.readRecent),
      readsPerSecLongLivedSessions: median(s.readLongLived),
      runs: { append: s.append, readRecent: s.readRecent, readLongLived: s.readLongLived },
    });
    const one = figures(systems.oneTable);
    const part = figures(systems.partitioned);
    const rows = shape.days * (shape.perDay * shape.eventsEach + shape.longLived * shape.perDayLong);
    return {
      shape: { ...shape, seededEvents: rows },
      concurrency,
      secondsPerRun: durationMs / 1000,
      rounds,
      oneTable: one,
      partitioned: part,
      partitionedOverOneTable: {
        append: ratio(part.appendRowsPerSec, one.appendRowsPerSec),
        readRecent: ratio(part.readsPerSecRecentSessions, one.readsPerSecRecentSessions),
        readLongLived: ratio(part.readsPerSecLongLivedSessions, one.readsPerSecLongLivedSessions),
      },
    };
  } finally {
    for (const s of Object.values(systems)) await s.producer.close();
    for (const db of created) await db.drop().catch(() => undefined);
  }
}

export function partitionReport(x, _out, l) {
  const fmt = (v) => (v === null || v === undefined ? 'n/a' : typeof v === 'number' ? v.toLocaleString('en-US') : String(v));
  l.push(`The same code (EventStore) on two databases with the same history (${fmt(x.shape.seededEvents)} events over ${x.shape.days} days: ${x.shape.perDay} sessions a day with ${x.shape.eventsEach} events each, and ${x.shape.longLived} long-lived sessions writing ${x.shape.perDayLong} events every day): \`events\` as one table keyed as before migration 0002, and partitioned as after ${x.shape.days} nights of retention (${x.partitioned.partitions} partitions: one a day, two ahead, the default). ${x.rounds} round${x.rounds === 1 ? '' : 's'} of ${x.secondsPerRun} s per figure, alternating; medians. Appends: ${x.concurrency} sessions in a closed loop, one delta row per append (group commit takes the appends waiting at the same moment into one statement). Reads: getEventsAfter 50 events behind the head (a resume).`, '');
  const head = ['layout', 'append rows/s', 'resume reads/s, sessions of today', 'resume reads/s, long-lived sessions'];
  const rows = [
    ['one table (before)', x.oneTable.appendRowsPerSec, x.oneTable.readsPerSecRecentSessions, x.oneTable.readsPerSecLongLivedSessions],
    ['partitioned (after)', x.partitioned.appendRowsPerSec, x.partitioned.readsPerSecRecentSessions, x.partitioned.readsPerSecLongLivedSessions],
    ['partitioned / one table', x.partitionedOverOneTable.append, x.partitionedOverOneTable.readRecent, x.partitionedOverOneTable.readLongLived],
  ].map((r) => r.map(fmt));
  l.push([`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n'), '');
}
