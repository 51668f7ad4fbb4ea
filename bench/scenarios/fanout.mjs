// Scenario 1 (and 6a for the peers): fan-out. S sessions × K subscribers spread over 2 serving
// nodes, a producer process at a set rate stamping its clock into every event; clients in
// separate processes take the receive time. The rate steps up until delivery or latency degrades.
import { closeAll, collectAll, openSpread } from '../lib/clients.mjs';
import { sampleProcesses } from '../lib/proc.mjs';
import { sleep } from '../lib/services.mjs';
import { latencySummary, round } from '../lib/stats.mjs';
import { SYSTEMS } from '../lib/systems.mjs';

/** A step is saturated when the producer fell behind, events were lost, or p99 passed this. */
export const SATURATION_P99_MS = 250;

export function fanoutParams(quick) {
  return quick
    ? { sessions: 2, subscribers: 2, rates: [20, 40], stepMs: 1000, clientProcesses: 1 }
    : { sessions: 50, subscribers: 20, rates: [250, 500, 1000, 2000, 4000, 8000, 16000], stepMs: 5000, clientProcesses: 2 };
}

export async function runFanout(systemKey, ctx) {
  const system = SYSTEMS[systemKey];
  const params = fanoutParams(ctx.quick);
  const running = await system.start({ ...ctx, sessions: params.sessions });
  const targets = [];
  for (const id of running.sessionIds) {
    for (let k = 0; k < params.subscribers; k++) targets.push(running.target(running.nodes[k % 2], id));
  }
  const { clients, failed } = await openSpread(params.clientProcesses, system.clientKind, targets);
  const steps = [];
  let nodeMetrics;
  try {
    if (failed) throw new Error(`${failed} of ${targets.length} streams failed to open`);
    // warm-up at the lowest rate (JIT, connection pools), not reported
    await running.producer.request({ cmd: 'run', rate: params.rates[0], durationMs: params.stepMs / 2, ...running.runExtra });
    await sleep(1000);
    await collectAll(clients);
    for (const rate of params.rates) {
      const pids = { producer: running.producer.pid, redis: ctx.redis.pid };
      running.nodes.forEach((n, i) => (pids[`node${'AB'[i]}`] = n.pid));
      clients.forEach((c, i) => (pids[`client${i}`] = c.pid));
      const sampler = sampleProcesses(pids);
      const t0 = performance.now();
      const produced = await running.producer.request({ cmd: 'run', rate, durationMs: params.stepMs, ...running.runExtra });
      await sleep(1500); // let in-flight events arrive
      const seconds = (performance.now() - t0) / 1000;
      const processes = sampler.stop();
      const got = await collectAll(clients);
      const expected = produced.appended * params.subscribers;
      const step = {
        targetRate: rate,
        producedPerSec: produced.achievedRate,
        expected,
        received: got.received,
        deliveryRatio: expected ? round(got.received / expected, 4) : null,
        deliveredPerSec: Math.round(got.received / (params.stepMs / 1000)),
        latencyMs: latencySummary(got.latencies),
        streamErrors: got.closes + got.errors,
        processes,
        seconds: round(seconds, 1),
      };
      step.appendTransactions = produced.transactions ?? null;
      // Sessionwire: stamp → append answered (commit and hook), the write path's share of latencyMs
      if (produced.storedMs) Object.assign(step, { storedMs: produced.storedMs, commitMs: produced.commitMs });
      step.limitedBy =
        produced.achievedRate < rate * 0.9
          ? 'producer'
          : step.deliveryRatio < 0.999
            ? 'delivery'
            : (step.latencyMs.p99 ?? Infinity) > SATURATION_P99_MS
              ? 'latency'
              : null;
      step.saturated = step.limitedBy !== null;
      steps.push(step);
      console.log(
        `   ${system.label}: ${rate}/s produced ${produced.achievedRate}/s, delivered ${step.deliveredPerSec}/s ` +
          `(${step.deliveryRatio}), p50 ${step.latencyMs.p50} p99 ${step.latencyMs.p99} ms` +
          `${step.storedMs ? ` (stored p50 ${step.storedMs.p50} p99 ${step.storedMs.p99} ms, ${step.appendTransactions} commits p50 ${step.commitMs.p50} p99 ${step.commitMs.p99} ms)` : ''}${step.saturated ? ` SATURATED (${step.limitedBy})` : ''}`,
      );
      if (step.saturated) break;
    }
    nodeMetrics = await running.metrics?.();
  } finally {
    await closeAll(clients);
    await running.stop();
  }
  const sustained = steps.filter((s) => !s.saturated);
  const best = sustained[sustained.length - 1] ?? null;
  return {
    system: system.label,
    params: { sessions: params.sessions, subscribersPerSession: params.subscribers, streams: targets.length, stepMs: params.stepMs, payloadBytes: 80 },
    steps,
    saturationRate: steps.find((s) => s.saturated)?.targetRate ?? null,
    saturatedBy: steps.find((s) => s.saturated)?.limitedBy ?? null,
    ...(nodeMetrics && { nodeMetrics }),
    best: best && { targetRate: best.targetRate, deliveredPerSec: best.deliveredPerSec, p50: best.latencyMs.p50, p95: best.latencyMs.p95, p99: best.latencyMs.p99 },
  };
}
