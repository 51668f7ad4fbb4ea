// Scenario 4: reconnect storm. Streams on node A (several per session, identical cursors), A is
// SIGKILLed, every client resumes on node B with its Last-Event-ID. Time until all are live again,
// Postgres transactions issued meanwhile, node B's peak RSS.
import { closeAll, collectAll, openSpread } from '../lib/clients.mjs';
import { rssKb } from '../lib/proc.mjs';
import { apiMetrics, appendSilently, seedSessions, xactCommit } from '../lib/seed.mjs';
import { sleep, startApi } from '../lib/services.mjs';
import { ratio, round, latencySummary } from '../lib/stats.mjs';

export function stormParams(quick) {
  return quick
    ? { streams: 100, perSession: 5, events: 20, behind: 10, clientProcesses: 1, timeoutMs: 20_000 }
    : { streams: 5000, perSession: 10, events: 20, behind: 10, clientProcesses: 4, timeoutMs: 90_000 };
}

/**
 * Runs the storm twice with the same number of streams: several streams per session with
 * identical cursors, then one stream per session. If identical cursors share their reads, the
 * first costs Postgres fewer transactions than the second.
 */
export async function stormScenario(ctx) {
  const params = stormParams(ctx.quick);
  const shared = await storm(ctx, { ...params, sessions: params.streams / params.perSession });
  const distinct = await storm(ctx, { ...params, sessions: params.streams, perSession: 1 });
  return {
    ...shared,
    distinctSessions: distinct,
    transactionsSharedOverDistinct: ratio(shared.postgresTransactions, distinct.postgresTransactions),
    distinctOverShared: {
      transactionsPerStream: ratio(distinct.transactionsPerStream, shared.transactionsPerStream),
      allLiveMs: ratio(distinct.allLiveMs, shared.allLiveMs),
    },
  };
}

async function storm(ctx, params) {
  const streams = params.sessions * params.perSession;
  const ids = await seedSessions(ctx.db.url, { count: params.sessions, events: params.events, state: 'SUSPENDED' });
  const a = await startApi('api-storm-a', { databaseUrl: ctx.db.url, redisUrl: ctx.redis.url });
  const b = await startApi('api-storm-b', { databaseUrl: ctx.db.url, redisUrl: ctx.redis.url });
  let clients = [];
  try {
    const targets = [];
    for (const id of ids) {
      const path = `/v1/sessions/${id}/stream?after=0`;
      for (let k = 0; k < params.perSession; k++) targets.push({ url: `${a.url}${path}`, path });
    }
    const opened = await openSpread(params.clientProcesses, 'sse', targets, { reconnect: { urls: [b.url] }, concurrency: 100 });
    clients = opened.clients;
    if (opened.failed) throw new Error(`${opened.failed} of ${streams} streams failed to open on node A`);
    await sleep(2000);
    await collectAll(clients);
    // Postgres' own background rate on this database while nothing happens, to subtract
    const q0 = await xactCommit(ctx.db.name);
    await sleep(3000);
    const quietPerSec = ((await xactCommit(ctx.db.name)) - q0) / 3;
    // events node A never hears of (no hint, and resting sessions are not synced): every
    // client is now behind, and node B must read the missing range for each cursor
    await appendSilently(ctx.db.url, ids, params.events, params.behind);
    const before = await xactCommit(ctx.db.name);
    const baseKb = rssKb(b.pid);
    let peakKb = baseKb;
    const t0 = performance.now();
    await a.kill('SIGKILL');
    let live = 0;
    let received = 0;
    const reconnectMs = [];
    while (live < streams) {
      if (performance.now() - t0 > params.timeoutMs) break;
      await sleep(100);
      peakKb = Math.max(peakKb, rssKb(b.pid) ?? 0);
      const got = await collectAll(clients);
      live = got.liveAfterReconnect;
      received += got.frames;
      reconnectMs.push(...got.reconnectMs);
    }
    const allLiveMs = performance.now() - t0;
    await sleep(1500); // pg_stat counters are flushed about once a second
    const seconds = (performance.now() - t0) / 1000;
    // Never below 0: the quiet rate is an estimate, and at small sizes it can exceed the storm's own.
    const queries = Math.max(0, (await xactCommit(ctx.db.name)) - before - Math.round(quietPerSec * seconds));
    const metrics = await apiMetrics(b.url);
    const result = {
      streams,
      sessions: params.sessions,
      streamsPerSession: params.perSession,
      liveAgain: live,
      eventsBehindPerStream: params.behind,
      framesReceivedAfterKill: received,
      allLiveMs: live === streams ? Math.round(allLiveMs) : null,
      reconnectToLiveMs: latencySummary(reconnectMs),
      postgresTransactions: queries,
      transactionsPerStream: ratio(queries, streams, 3),
      transactionsPerSession: ratio(queries, params.sessions, 2),
      nodeBRssBaseMb: round(baseKb / 1024, 1),
      nodeBRssPeakMb: round(peakKb / 1024, 1),
      nodeBMetrics: metrics,
    };
    console.log(`   storm (${params.perSession}/session): ${live}/${streams} live on B after ${Math.round(allLiveMs)} ms, ${queries} Postgres transactions (${result.transactionsPerStream}/stream), B peak RSS ${result.nodeBRssPeakMb} MB`);
    return result;
  } finally {
    await closeAll(clients);
    await Promise.all([a.kill('SIGKILL'), b.kill('SIGTERM')]);
  }
}

export function stormReport(x, _out, l) {
  const fmt = (v) => (v === null || v === undefined ? 'n/a' : typeof v === 'number' ? v.toLocaleString('en-US') : String(v));
  l.push(`${fmt(x.streams)} streams on node A, first ${fmt(x.sessions)} sessions × ${x.streamsPerSession} (identical cursors per session), then the same number of distinct sessions × 1; ${x.eventsBehindPerStream} events per session are written straight to Postgres (no hint, so A never sends them), A is SIGKILLed, and every client resumes on node B with its Last-Event-ID, ${x.eventsBehindPerStream} events behind. Node B serves the resumes waiting at the same moment with one batched head query and one batched read (\`unnest\` of (session, after, limit) with a lateral read). Postgres transactions counted from \`pg_stat_database.xact_commit\` of the bench database, minus its quiet rate.`, '');
  const head = ['storm', 'live again', 'all live after ms', 'reconnect→live p50 / p99 ms', 'Postgres transactions', 'per stream', 'per session', 'node B RSS base → peak MB'];
  const rows = [
    ['identical cursors', x],
    ['distinct sessions', x.distinctSessions],
  ].map(([name, r]) => [`${name} (${fmt(r.sessions)} sessions × ${r.streamsPerSession})`, `${fmt(r.liveAgain)} / ${fmt(r.streams)}`, fmt(r.allLiveMs), `${fmt(r.reconnectToLiveMs.p50)} / ${fmt(r.reconnectToLiveMs.p99)}`, fmt(r.postgresTransactions), fmt(r.transactionsPerStream), fmt(r.transactionsPerSession), `${r.nodeBRssBaseMb} → ${r.nodeBRssPeakMb}`]);
  l.push([`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n'), '');
  l.push(`Distinct sessions / identical cursors: transactions per stream ${fmt(x.distinctOverShared?.transactionsPerStream)}, all-live time ${fmt(x.distinctOverShared?.allLiveMs)}.`, '');
}
