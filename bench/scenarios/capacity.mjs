// Scenario 7: capacity. N sessions each get one message at once and stream a 4 s turn at
// 50 tokens/s (`/stream 200 20`, the demo agent) through real worker processes and 2 API nodes,
// one subscriber per session. Per N: turn stretch (the POST burst's start to the last
// `turn.completed` on a client, over the nominal 4 s), delivered/expected deltas, createdAt→client
// latency. N grows until the stretch passes 1.25; the whole ladder runs with group commit
// (APPEND_BATCH_MAX 512) and again with APPEND_BATCH_MAX=1 on the same machine in the same run.
import { closeAll, collectAll, openSpread } from '../lib/clients.mjs';
import { sampleProcesses } from '../lib/proc.mjs';
import { adminQuery, sleep, startApi, startWorker } from '../lib/services.mjs';
import { seedSessions } from '../lib/seed.mjs';
import { latencySummary, nowMs, percentile, round } from '../lib/stats.mjs';

export const MAX_STRETCH = 1.25;

export function capacityParams(quick) {
  // BENCH_CAPACITY_LADDER=50,100,200 runs a shorter ladder (a check of the harness on a busy machine).
  const ladder = process.env.BENCH_CAPACITY_LADDER?.split(',').map(Number);
  const params = quick
    ? { ladder: [2, 4], tokens: 40, delayMs: 50, workers: 2, clientProcesses: 1, postConcurrency: 8 }
    : { ladder: [10, 25, 50, 100, 200, 400, 700, 1000, 1400, 2000], tokens: 200, delayMs: 20, workers: 2, clientProcesses: 2, postConcurrency: 200 };
  return ladder?.length ? { ...params, ladder } : params;
}

async function countDeltas(dbUrl, ids) {
  const { rows } = await adminQuery(`select count(*)::int as n from events where session_id = any($1::uuid[]) and type = 'message.delta'`, [ids], dbUrl);
  return rows[0].n;
}

/** Where a turn's time went, from Postgres' clock: message → turn.started (claiming, starting) and turn.started → turn.completed (the agent's run and its appends). */
async function turnPhases(dbUrl, ids) {
  const { rows } = await adminQuery(
    `select extract(epoch from (s.created_at - m.created_at)) * 1000 as start_ms,
            extract(epoch from (c.created_at - s.created_at)) * 1000 as run_ms
     from events m
     join events s on s.session_id = m.session_id and s.type = 'turn.started'
     join events c on c.session_id = m.session_id and c.type = 'turn.completed'
     where m.session_id = any($1::uuid[]) and m.type = 'message.user'`,
    [ids],
    dbUrl,
  );
  const start = rows.map((r) => Number(r.start_ms));
  const run = rows.map((r) => Number(r.run_ms));
  return {
    messageToStartMs: { p50: round(percentile(start, 50)), p99: round(percentile(start, 99)) },
    startToCompletedMs: { p50: round(percentile(run, 50)), p99: round(percentile(run, 99)) },
  };
}

async function postAll(nodes, ids, content, concurrency, action = 'messages') {
  const sentAt = new Map();
  const statuses = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) {
        const i = next++;
        sentAt.set(ids[i], nowMs());
        const res = await fetch(`${nodes[i % 2].url}/v1/sessions/${ids[i]}/${action}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(action === 'messages' ? { content } : {}),
        }).catch(() => ({ status: 0, text: async () => '' }));
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        await res.text();
      }
    }),
  );
  return { sentAt, statuses };
}

async function step(ctx, params, running, n) {
  const nominalMs = params.tokens * params.delayMs;
  const ids = await seedSessions(ctx.db.url, { count: n, events: 1, state: 'CREATED' });
  const targets = ids.map((id, i) => ({ url: `${running.nodes[i % 2].url}/v1/sessions/${id}/stream?after=0` }));
  const opened = await openSpread(params.clientProcesses, 'sse', targets, { stampFrom: 'createdAt', concurrency: 200 });
  const clients = opened.clients;
  try {
    if (opened.failed) throw new Error(`${opened.failed} of ${n} streams failed to open`);
    await sleep(500);
    await collectAll(clients);
    const sampler = sampleProcesses(running.pids);
    const t0 = nowMs();
    const posted = await postAll(running.nodes, ids, `/stream ${params.tokens} ${params.delayMs}`, Math.min(params.postConcurrency, n));
    const postedMs = nowMs() - t0;
    const done = new Map();
    const latencies = [];
    let received = 0;
    // Bounded wait: a stretch of 10 is far past the threshold and says enough.
    const deadline = t0 + nominalMs * 10 + 10_000;
    while (done.size < n && nowMs() < deadline) {
      await sleep(250);
      const got = await collectAll(clients);
      received += got.received;
      for (const v of got.latencies) latencies.push(v);
      for (const [id, at] of got.completions) if (!done.has(id)) done.set(id, at);
    }
    await sleep(500);
    const tail = await collectAll(clients);
    received += tail.received;
    for (const v of tail.latencies) latencies.push(v);
    const processes = sampler.stop();
    const expected = await countDeltas(ctx.db.url, ids);
    const phases = await turnPhases(ctx.db.url, ids);
    const last = Math.max(...done.values());
    const perSession = [...done].map(([id, at]) => (at - posted.sentAt.get(id)) / nominalMs);
    const result = {
      sessions: n,
      completed: done.size,
      stretch: done.size === n ? round((last - t0) / nominalMs, 2) : null,
      stretchLowerBound: done.size === n ? null : round((nowMs() - t0) / nominalMs, 2),
      sessionStretch: { p50: round(percentile(perSession, 50), 2), p99: round(percentile(perSession, 99), 2) },
      postsMs: Math.round(postedMs),
      postStatuses: posted.statuses,
      expected,
      delivered: received,
      deliveryRatio: expected ? round(received / expected, 4) : null,
      latencyMs: latencySummary(latencies),
      phases,
      processes,
    };
    console.log(`   capacity ${running.label}, N=${n}: stretch ${result.stretch ?? `> ${result.stretchLowerBound}`} (session p50 ${result.sessionStretch.p50}), delivered ${result.deliveryRatio}, p50 ${result.latencyMs.p50} p99 ${result.latencyMs.p99} ms, posts ${JSON.stringify(posted.statuses)} in ${result.postsMs} ms; message→turn.started p50 ${phases.messageToStartMs.p50} ms, turn.started→completed p50 ${phases.startToCompletedMs.p50} ms`);
    return result;
  } finally {
    await closeAll(clients);
    // End the step's sessions so their workers let them go before the next step (not timed).
    await postAll(running.nodes, ids, null, 100, 'end');
  }
}

async function ladder(ctx, params, label, batchMax) {
  const conn = { databaseUrl: ctx.db.url, redisUrl: ctx.redis.url };
  const env = { APPEND_BATCH_MAX: String(batchMax) };
  const concurrency = Math.ceil(params.ladder.at(-1) / params.workers) + 10;
  const workerEnv = { ...env, WORKER_CONCURRENCY: String(concurrency), IDLE_RELEASE_MS: '600000' };
  const nodes = [await startApi(`api-cap-a-${batchMax}`, { ...conn, env }), await startApi(`api-cap-b-${batchMax}`, { ...conn, env })];
  const workers = [];
  for (let i = 0; i < params.workers; i++) workers.push(await startWorker(`cap-worker-${batchMax}-${i}`, { ...conn, env: workerEnv }));
  const pids = { apiA: nodes[0].pid, apiB: nodes[1].pid, redis: ctx.redis.pid };
  workers.forEach((w, i) => (pids[`worker${i}`] = w.pid));
  const running = { label, nodes, pids };
  const steps = [];
  try {
    for (const n of params.ladder) {
      const result = await step(ctx, params, running, n);
      steps.push(result);
      if (result.stretch === null || result.stretch > MAX_STRETCH) break;
    }
  } finally {
    await Promise.all([...workers, ...nodes].map((p) => p.kill('SIGTERM')));
  }
  const within = steps.filter((s) => s.stretch !== null && s.stretch <= MAX_STRETCH);
  return { appendBatchMax: batchMax, steps, largestN: within.at(-1)?.sessions ?? 0 };
}

export async function capacityScenario(ctx) {
  const params = capacityParams(ctx.quick);
  const grouped = await ladder(ctx, params, 'group commit', 512);
  const unbatched = await ladder(ctx, params, 'APPEND_BATCH_MAX=1', 1);
  return {
    params: { ...params, nominalTurnMs: params.tokens * params.delayMs, maxStretch: MAX_STRETCH },
    groupCommit: grouped,
    unbatched,
    largestNRatio: unbatched.largestN ? round(grouped.largestN / unbatched.largestN, 2) : null,
  };
}

export function capacityReport(x, _out, l) {
  const p = x.params;
  l.push(`N sessions each get one message at once (POSTs spread over 2 API nodes, ${p.postConcurrency} in flight) and stream \`/stream ${p.tokens} ${p.delayMs}\` (the demo agent: ${p.nominalTurnMs / 1000} s at ${1000 / p.delayMs} tokens/s) through ${p.workers} worker processes; one subscriber per session, on alternating nodes. **Stretch**: the POST burst's start to the last \`turn.completed\` on a client, over the nominal ${p.nominalTurnMs / 1000} s (it includes claiming and starting; the demo agent keeps its pace on a schedule, so a worker whose timers fire late emits the tokens already due at once instead of stretching the turn by its lag); session stretch is the same per session from its own POST. N grows until the stretch passes ${p.maxStretch}. Delivered/expected counts \`message.delta\` frames against the rows in Postgres; latency is the delta's \`createdAt\` (commit's transaction start) to client receive.`, '');
  for (const run of [x.groupCommit, x.unbatched]) {
    l.push(`**APPEND_BATCH_MAX=${run.appendBatchMax}**: largest N with stretch ≤ ${p.maxStretch}: **${run.largestN}**`, '');
    const rows = run.steps.map((s) => [s.sessions, s.stretch ?? `> ${s.stretchLowerBound}`, `${s.sessionStretch.p50} / ${s.sessionStretch.p99}`, `${s.phases.messageToStartMs.p50} / ${s.phases.messageToStartMs.p99}`, `${s.phases.startToCompletedMs.p50} / ${s.phases.startToCompletedMs.p99}`, `${s.completed} / ${s.sessions}`, s.deliveryRatio, s.latencyMs.p50, s.latencyMs.p99, s.postsMs, Object.entries(s.postStatuses).map(([k, v]) => `${k}: ${v}`).join(', '),
      ['apiA', 'apiB', 'worker0', 'worker1', 'redis'].map((k) => s.processes[k]?.cpuPct ?? 'n/a').join(', ')]);
    const head = ['N', 'stretch', 'session stretch p50 / p99', 'message → turn.started p50 / p99 ms', 'turn.started → turn.completed p50 / p99 ms', 'turns completed', 'delivered/expected', 'p50 ms', 'p99 ms', 'POSTs took ms', 'POST statuses', 'CPU % (API A, API B, worker 0, worker 1, redis)'];
    l.push([`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n'), '');
  }
  l.push(`Largest N with group commit / with APPEND_BATCH_MAX=1: **${x.largestNRatio ?? 'n/a'}**.`, '');
}
