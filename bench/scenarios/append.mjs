// Scenario 5: the append path. EventStore.append (the worker's append) with coalescing off (one
// row per token) and on (a fast agent's tokens gathered for DELTA_FLUSH_MS = 25 into one row),
// against the machine's ceiling: the same row shape (lock the session row, bump head_seq, insert
// one event) written by pgbench with a custom script, same concurrency, same run.
import { Producer } from '../lib/producer.mjs';
import { adminQuery, Child } from '../lib/services.mjs';
import { ratio } from '../lib/stats.mjs';

async function pgbench(db, { concurrency, seconds }) {
  // each pgbench client writes to its own session, whose id it derives from :client_id
  const ids = Array.from({ length: concurrency }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  await adminQuery(
    `insert into sessions (id, agent, state) select unnest($1::uuid[]), 'demo', 'CREATED'`,
    [ids],
    db.url,
  );
  const file = 'bench/pgbench-append.sql';
  const url = new URL(db.url);
  const args = ['-n', '-f', file, '-c', String(concurrency), '-j', '2', '-T', String(seconds), '-h', url.hostname, '-p', url.port || '5432', '-U', url.username || 'postgres', db.name];
  const run = new Child('pgbench', 'pgbench', args); // cwd: the repository root
  const { code } = await run.exited;
  const out = run.logs();
  if (code !== 0) throw new Error(`pgbench failed (${code}): ${out}`);
  const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
  return { tps: Math.round(tps), command: `pgbench ${args.join(' ')}` };
}

export async function appendScenario(ctx) {
  const { db, quick } = ctx;
  const concurrency = quick ? 2 : 8;
  const seconds = quick ? 1 : 6;
  const producer = new Producer('producers/store-producer.mjs', 'append-producer');
  try {
    await producer.request({ cmd: 'setup', databaseUrl: db.url, redisUrl: null, sessions: concurrency });
    const off = await producer.request({ cmd: 'append-max', durationMs: seconds * 1000, concurrency, flushMs: 0 });
    const on = await producer.request({ cmd: 'append-max', durationMs: seconds * 1000, concurrency, flushMs: 25 });
    const ceiling = await pgbench(db, { concurrency, seconds });
    return {
      concurrency,
      secondsPerRun: seconds,
      coalescingOff: { rowsPerSec: off.rowsPerSec, tokensPerSec: off.tokensPerSec },
      coalescingOn: { rowsPerSec: on.rowsPerSec, tokensPerSec: on.tokensPerSec, flushMs: 25 },
      pgbench: { rowsPerSec: ceiling.tps, command: ceiling.command },
      ratioOffToPgbench: ratio(off.rowsPerSec, ceiling.tps),
      ratioOnTokensToPgbench: ratio(on.tokensPerSec, ceiling.tps),
    };
  } finally {
    await producer.close();
  }
}
