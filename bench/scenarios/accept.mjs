// Scenario 8: accepting messages. A POST load process keeps C requests in flight against 2 API
// nodes (new messages to random sessions of a seeded set, keep-alive HTTP) for a few seconds; per
// C: accepted/s, p50/p99, statuses. Each API node group-commits the messages waiting at the same
// moment. Baseline: pgbench's one-row transactions/s at the same concurrency, same run.
import { pgbench } from '../lib/pgbench.mjs';
import { Producer } from '../lib/producer.mjs';
import { apiMetrics, seedSessions } from '../lib/seed.mjs';
import { startApi } from '../lib/services.mjs';
import { latencySummary, ratio } from '../lib/stats.mjs';

const ACCEPT_MESSAGE_LIMIT = 1_000_000;

export function acceptParams(quick) {
  return quick ? { sessions: 20, concurrency: [1, 16, 64], seconds: 1 } : { sessions: 200, concurrency: [1, 16, 64], seconds: 5 };
}

/** The concurrency ladder against 2 fresh API nodes started with `env`. */
async function ladder(ctx, params, env, ceilings) {
  // The accept path, not the abuse limit: a session's message limit is out of reach.
  const conn = { databaseUrl: ctx.db.url, redisUrl: ctx.redis.url, env: { MAX_MESSAGES_PER_SESSION_PER_MINUTE: String(ACCEPT_MESSAGE_LIMIT), ...env } };
  const sessionIds = await seedSessions(ctx.db.url, { count: params.sessions, events: 1, state: 'CREATED' });
  const tag = env.DATABASE_NAMED_STATEMENTS ?? 'on';
  const nodes = [await startApi(`api-accept-a-${tag}`, conn), await startApi(`api-accept-b-${tag}`, conn)];
  const client = new Producer('clients/post-client.mjs', 'post-client');
  const steps = [];
  try {
    const urls = nodes.map((n) => n.url);
    // warm-up (JIT, pools), not reported
    await client.request({ cmd: 'run', urls, sessionIds, concurrency: 8, durationMs: 1000 });
    for (const concurrency of params.concurrency) {
      const run = await client.request({ cmd: 'run', urls, sessionIds, concurrency, durationMs: params.seconds * 1000 });
      ceilings[concurrency] ??= await pgbench(ctx.db, { concurrency, seconds: params.seconds });
      const ceiling = ceilings[concurrency];
      const step = {
        concurrency,
        acceptedPerSec: Math.round(run.ok / run.seconds),
        latencyMs: latencySummary(run.latencies),
        statuses: run.statuses,
        pgbenchTps: ceiling.tps,
        ratioToPgbench: ratio(run.ok / run.seconds, ceiling.tps),
      };
      steps.push(step);
      console.log(`   accept (named statements ${tag}) c=${concurrency}: ${step.acceptedPerSec}/s p50 ${step.latencyMs.p50} p99 ${step.latencyMs.p99} ms ${JSON.stringify(run.statuses)}, pgbench ${ceiling.tps} tps`);
    }
    const metrics = await apiMetrics(nodes[0].url);
    const batch = ratio(metrics.sessionwire_write_batch_size_sum, metrics.sessionwire_write_batch_size_count, 1);
    return { steps, nodeA: { writesPerCommit: batch, commits: metrics.sessionwire_write_batch_size_count ?? null } };
  } finally {
    await client.close();
    await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
  }
}

export async function acceptScenario(ctx) {
  const params = acceptParams(ctx.quick);
  const ceilings = {};
  const named = await ladder(ctx, params, {}, ceilings);
  // The same ladder with every statement sent unnamed (parsed and planned on every commit).
  const unnamed = await ladder(ctx, params, { DATABASE_NAMED_STATEMENTS: 'off' }, ceilings);
  const namedToUnnamed = named.steps.map((s, i) => ({
    concurrency: s.concurrency,
    acceptedRatio: ratio(s.acceptedPerSec, unnamed.steps[i].acceptedPerSec),
    p99Ratio: ratio(s.latencyMs.p99, unnamed.steps[i].latencyMs.p99),
  }));
  return { params, steps: named.steps, nodeA: named.nodeA, unnamed, namedToUnnamed, pgbenchCommand: 'pgbench -n -f bench/pgbench-append.sql -c C …' };
}

export function acceptReport(x, _out, l) {
  l.push(`A load process keeps C \`POST /v1/sessions/:id/messages\` in flight (each a new message, \`clientMessageId\` set, to one of ${x.params.sessions} sessions; alternating between 2 API nodes; keep-alive HTTP) for ${x.params.seconds} s per C; each ladder on fresh sessions, with \`MAX_MESSAGES_PER_SESSION_PER_MINUTE=${ACCEPT_MESSAGE_LIMIT}\` (the accept path, not the abuse limit, is measured). No worker runs: this is the accept path alone (validate, group-commit the message, publish its hints). pgbench runs the append row shape (one transaction per row) at the same concurrency right after. On node A, ${x.nodeA.writesPerCommit ?? 'n/a'} writes per commit on average over the run.`, '');
  const head = ['concurrency', 'accepted/s', 'p50 ms', 'p99 ms', 'statuses', 'pgbench tps', 'accepted / pgbench'];
  const row = (s) => [s.concurrency, s.acceptedPerSec.toLocaleString('en-US'), s.latencyMs.p50, s.latencyMs.p99, Object.entries(s.statuses).map(([k, v]) => `${k}: ${v}`).join(', '), s.pgbenchTps.toLocaleString('en-US'), s.ratioToPgbench];
  const table = (steps) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...steps.map(row).map((r) => `| ${r.join(' | ')} |`)].join('\n');
  l.push(table(x.steps), '');
  if (!x.unnamed) return;
  l.push(`The same ladder on 2 fresh nodes with \`DATABASE_NAMED_STATEMENTS=off\` (every statement parsed and planned on every commit; node A ${x.unnamed.nodeA.writesPerCommit ?? 'n/a'} writes per commit):`, '', table(x.unnamed.steps), '');
  l.push(`Named over unnamed, accepted/s: ${x.namedToUnnamed.map((r) => `${r.acceptedRatio} at c=${r.concurrency}`).join(', ')}; p99: ${x.namedToUnnamed.map((r) => `${r.p99Ratio} at c=${r.concurrency}`).join(', ')}.`, '');
}

