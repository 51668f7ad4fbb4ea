// Scenario 5: the append path. Many sessions append at once through ONE EventStore (one write
// pipeline, as a worker's held sessions do): with group commit (APPEND_BATCH_MAX 512) and without
// (APPEND_BATCH_MAX 1: every append its own transaction, concurrently on the pool), one row per
// append (coalescing off), and with a fast agent's tokens coalesced for DELTA_FLUSH_MS = 25 into
// one row. The machine's ceiling: the same row shape (lock the session row, bump head_seq, insert
// one event) written by pgbench in one transaction per row, same run.
import { pgbench } from '../lib/pgbench.mjs';
import { Producer } from '../lib/producer.mjs';
import { ratio } from '../lib/stats.mjs';

export function appendParams(quick) {
  return quick
    ? { sessions: 16, pgbenchConcurrency: 2, seconds: 1 }
    : { sessions: 512, pgbenchConcurrency: 8, seconds: 6 };
}

async function measure(db, params, batchMax, commitsMax, namedStatements = true) {
  const producer = new Producer('producers/store-producer.mjs', `append-producer-${batchMax}`);
  try {
    await producer.request({ cmd: 'setup', databaseUrl: db.url, redisUrl: null, sessions: params.sessions, batchMax, commitsMax, namedStatements });
    const durationMs = params.seconds * 1000;
    const off = await producer.request({ cmd: 'append-max', durationMs, concurrency: params.sessions, flushMs: 0 });
    const on = await producer.request({ cmd: 'append-max', durationMs, concurrency: params.sessions, flushMs: 25 });
    const perCommit = (r) => ratio(r.rows, r.commits, 1);
    return {
      coalescingOff: { rowsPerSec: off.rowsPerSec, commits: off.commits, rowsPerCommit: perCommit(off) },
      coalescingOn: { rowsPerSec: on.rowsPerSec, tokensPerSec: on.tokensPerSec, rowsPerCommit: perCommit(on) },
    };
  } finally {
    await producer.close();
  }
}

export async function appendScenario(ctx) {
  const { db, quick } = ctx;
  const params = appendParams(quick);
  const grouped = await measure(db, params, 512);
  const alone = await measure(db, params, 1);
  // group commit with one commit in flight (APPEND_COMMITS_MAX=1), the next batch gathering meanwhile
  const oneInFlight = await measure(db, params, 512, 1);
  // group commit with every statement sent unnamed (DATABASE_NAMED_STATEMENTS=off): parsed and planned each time
  const unnamed = await measure(db, params, 512, undefined, false);
  const ceiling = await pgbench(db, { concurrency: params.pgbenchConcurrency, seconds: params.seconds });
  console.log(`   append: ${grouped.coalescingOff.rowsPerSec} rows/s grouped (${oneInFlight.coalescingOff.rowsPerSec} with one commit in flight, ${unnamed.coalescingOff.rowsPerSec} unnamed), ${alone.coalescingOff.rowsPerSec} alone, pgbench ${ceiling.tps}`);
  return {
    sessions: params.sessions,
    secondsPerRun: params.seconds,
    groupCommit: grouped,
    unbatched: alone,
    groupCommitOneInFlight: oneInFlight,
    groupCommitUnnamed: unnamed,
    ratioNamedToUnnamed: ratio(grouped.coalescingOff.rowsPerSec, unnamed.coalescingOff.rowsPerSec),
    pgbench: { concurrency: params.pgbenchConcurrency, rowsPerSec: ceiling.tps, command: ceiling.command },
    ratioGroupedToPgbench: ratio(grouped.coalescingOff.rowsPerSec, ceiling.tps),
    ratioUnbatchedToPgbench: ratio(alone.coalescingOff.rowsPerSec, ceiling.tps),
    ratioGroupedToUnbatched: ratio(grouped.coalescingOff.rowsPerSec, alone.coalescingOff.rowsPerSec),
  };
}

export function appendReport(x, _out, l) {
  l.push(`${x.sessions} sessions appending at once, each in a closed loop (next append when the previous one is answered), through one EventStore for ${x.secondsPerRun} s per run. Group commit: APPEND_BATCH_MAX 512 and APPEND_COMMITS_MAX 4 (appends waiting while the commits are in flight go in the next one, one statement for all), the same with one commit in flight, and the same with every statement sent unnamed (DATABASE_NAMED_STATEMENTS=off: parsed and planned on every commit); unbatched: APPEND_BATCH_MAX 1 (each append its own commit, concurrently on a pool of 16). Coalescing on: a fast agent's tokens gathered for 25 ms (DELTA_FLUSH_MS) into one row. pgbench writes the same row shape (lock and bump the session's head, insert one event) in one transaction per row at concurrency ${x.pgbench.concurrency}: the machine's one-row ceiling. pgbench command: \`${x.pgbench.command}\`.`, '');
  const t = (rows) => [`| ${rows[0].join(' | ')} |`, `|${rows[0].map(() => '---').join('|')}|`, ...rows.slice(1).map((r) => `| ${r.map((v) => (v ?? 'n/a').toLocaleString('en-US')).join(' | ')} |`)].join('\n');
  l.push(t([
    ['path', 'rows/s', 'rows per commit', 'tokens/s', 'rows/s vs pgbench'],
    ['group commit, one row per append', x.groupCommit.coalescingOff.rowsPerSec, x.groupCommit.coalescingOff.rowsPerCommit, x.groupCommit.coalescingOff.rowsPerSec, x.ratioGroupedToPgbench],
    ['group commit, coalescing on', x.groupCommit.coalescingOn.rowsPerSec, x.groupCommit.coalescingOn.rowsPerCommit, x.groupCommit.coalescingOn.tokensPerSec, null],
    ...(x.groupCommitOneInFlight ? [['group commit, APPEND_COMMITS_MAX=1, one row per append', x.groupCommitOneInFlight.coalescingOff.rowsPerSec, x.groupCommitOneInFlight.coalescingOff.rowsPerCommit, x.groupCommitOneInFlight.coalescingOff.rowsPerSec, ratio(x.groupCommitOneInFlight.coalescingOff.rowsPerSec, x.pgbench.rowsPerSec)]] : []),
    ...(x.groupCommitUnnamed ? [['group commit, DATABASE_NAMED_STATEMENTS=off, one row per append', x.groupCommitUnnamed.coalescingOff.rowsPerSec, x.groupCommitUnnamed.coalescingOff.rowsPerCommit, x.groupCommitUnnamed.coalescingOff.rowsPerSec, ratio(x.groupCommitUnnamed.coalescingOff.rowsPerSec, x.pgbench.rowsPerSec)]] : []),
    ['unbatched, one row per append', x.unbatched.coalescingOff.rowsPerSec, x.unbatched.coalescingOff.rowsPerCommit, x.unbatched.coalescingOff.rowsPerSec, x.ratioUnbatchedToPgbench],
    ['pgbench, same row shape', x.pgbench.rowsPerSec, 1, x.pgbench.rowsPerSec, 1],
  ]), '');
  l.push(`Group-committed rows/s over pgbench's one-row transactions/s: **${x.ratioGroupedToPgbench ?? 'n/a'}**; over the unbatched path: ${x.ratioGroupedToUnbatched ?? 'n/a'}; named statements over unnamed (same group commit): ${x.ratioNamedToUnnamed ?? 'n/a'}.`, '');
}
