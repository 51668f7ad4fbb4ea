// Bulk seeding with SQL, so scenario setup takes seconds: sessions with `events` events each.
import { adminQuery } from './services.mjs';

/** Inserts `count` sessions in `state`, each holding `events` events; returns their ids. */
export async function seedSessions(dbUrl, { count, events, state }) {
  const { rows } = await adminQuery(
    `insert into sessions (id, agent, state, head_seq)
     select gen_random_uuid(), 'demo', $2, $3 from generate_series(1, $1) returning id`,
    [count, state, events],
    dbUrl,
  );
  const ids = rows.map((r) => r.id);
  await adminQuery(
    `insert into events (session_id, seq, type, data)
     select s.id, g, case when g = 1 then 'session.state' else 'message.delta' end,
            case when g = 1 then '{"from":null,"to":"CREATED","reason":"created"}'::jsonb
                 else jsonb_build_object('turnId', '0193a0b0-0000-7000-8000-000000000000', 'text', 'token ' || g) end
     from unnest($1::uuid[]) s(id) cross join generate_series(1, $2::bigint) g`,
    [ids, events],
    dbUrl,
  );
  return ids;
}

/**
 * Appends `count` deltas to sessions that all hold `head` events, straight in SQL: no hint is
 * published, so only a node that reads the log will see them.
 */
export async function appendSilently(dbUrl, ids, head, count) {
  await adminQuery(
    `with bumped as (update sessions set head_seq = head_seq + $3 where id = any($1::uuid[]) returning id)
     insert into events (session_id, seq, type, data)
     select b.id, g, 'message.delta', jsonb_build_object('turnId', '0193a0b0-0000-7000-8000-000000000000', 'text', 'token ' || g)
     from bumped b cross join generate_series($2::bigint + 1, $2::bigint + $3) g`,
    [ids, head, count],
    dbUrl,
  );
}

/** Committed transactions of one database so far (pg_stat_database, flushed about every second). */
export async function xactCommit(dbName) {
  const { rows } = await adminQuery('select xact_commit::bigint as n from pg_stat_database where datname = $1', [dbName]);
  return Number(rows[0].n);
}

/** The `sessionwire_*` samples of an API node's /metrics, as name → value. */
export async function apiMetrics(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = {};
  for (const line of text.split('\n')) {
    const match = /^(sessionwire_[a-z_]+)(\{[^}]*\})? ([\d.e+-]+)$/.exec(line);
    if (match && !match[2]) out[match[1]] = Number(match[3]);
  }
  return out;
}
