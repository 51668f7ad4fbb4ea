// Scenario 1b: fan-out with real workers producing. The demo agent streams `/stream N delayMs`
// turns in every session at once (tokens/s = sessions × 1000 / delayMs), the worker coalesces
// deltas every DELTA_FLUSH_MS (25) into rows, 2 API nodes deliver to K subscribers per session.
// Latency: the event's createdAt (Postgres clock) to client receive (same machine, ms precision).
import { closeAll, collectAll, openSpread } from '../lib/clients.mjs';
import { sampleProcesses } from '../lib/proc.mjs';
import { adminQuery, sleep, startApi, startWorker, waitFor } from '../lib/services.mjs';
import { latencySummary, round } from '../lib/stats.mjs';

export function workerFanoutParams(quick) {
  return quick
    ? { sessions: 2, subscribers: 2, delays: [10], turnMs: 1000, clientProcesses: 1 }
    : { sessions: 50, subscribers: 20, delays: [20, 5, 1], turnMs: 4000, clientProcesses: 2 };
}

async function post(url, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status >= 300) throw new Error(`POST ${url} → ${response.status}: ${await response.text()}`);
  return response.json();
}

async function countEvents(dbUrl, ids, type) {
  const { rows } = await adminQuery('select count(*)::int as n from events where session_id = any($1::uuid[]) and type = $2', [ids, type], dbUrl);
  return rows[0].n;
}

export async function workerFanoutScenario(ctx) {
  const params = workerFanoutParams(ctx.quick);
  const conn = { databaseUrl: ctx.db.url, redisUrl: ctx.redis.url };
  const nodes = [await startApi('api-wa', conn), await startApi('api-wb', conn)];
  const workers = [await startWorker('bench-worker-0', conn), await startWorker('bench-worker-1', conn)];
  let clients = [];
  const steps = [];
  try {
    const ids = [];
    for (let i = 0; i < params.sessions; i++) ids.push((await post(`${nodes[0].url}/v1/sessions`, {})).id);
    const targets = ids.flatMap((id) => Array.from({ length: params.subscribers }, (_, k) => ({ url: `${nodes[k % 2].url}/v1/sessions/${id}/stream?after=0` })));
    const opened = await openSpread(params.clientProcesses, 'sse', targets, { stampFrom: 'createdAt' });
    clients = opened.clients;
    if (opened.failed) throw new Error(`${opened.failed} of ${targets.length} streams failed to open`);
    let turns = 0;
    for (const delay of params.delays) {
      const tokens = Math.round(params.turnMs / delay);
      await collectAll(clients);
      const rowsBefore = await countEvents(ctx.db.url, ids, 'message.delta');
      const pids = { apiA: nodes[0].pid, apiB: nodes[1].pid, worker0: workers[0].pid, worker1: workers[1].pid, redis: ctx.redis.pid };
      const sampler = sampleProcesses(pids);
      const t0 = performance.now();
      await Promise.all(ids.map((id) => post(`${nodes[(turns + 1) % 2].url}/v1/sessions/${id}/messages`, { content: `/stream ${tokens} ${delay}` })));
      turns += 1;
      await waitFor('every turn to complete', async () => (await countEvents(ctx.db.url, ids, 'turn.completed')) >= turns * ids.length, 120_000, 100);
      const turnSeconds = (performance.now() - t0) / 1000;
      await sleep(1000);
      const processes = sampler.stop();
      const got = await collectAll(clients);
      const rows = (await countEvents(ctx.db.url, ids, 'message.delta')) - rowsBefore;
      const step = {
        delayMs: delay,
        tokensPerTurn: tokens,
        tokensPerSec: Math.round((tokens * ids.length) / turnSeconds),
        rowsPerSec: Math.round(rows / turnSeconds),
        expected: rows * params.subscribers,
        received: got.received,
        deliveryRatio: rows ? round(got.received / (rows * params.subscribers), 4) : null,
        deliveredPerSec: Math.round(got.received / turnSeconds),
        latencyMs: latencySummary(got.latencies),
        turnSeconds: round(turnSeconds, 1),
        processes,
      };
      steps.push(step);
      console.log(`   workers, /stream ${tokens} ${delay}: ${step.tokensPerSec} tokens/s in ${step.rowsPerSec} rows/s, delivered ${step.deliveredPerSec}/s (${step.deliveryRatio}), p50 ${step.latencyMs.p50} p99 ${step.latencyMs.p99} ms`);
    }
  } finally {
    await closeAll(clients);
    await Promise.all([...workers, ...nodes].map((p) => p.kill('SIGTERM')));
  }
  return { params: { sessions: params.sessions, subscribersPerSession: params.subscribers, deltaFlushMs: 25 }, steps };
}
