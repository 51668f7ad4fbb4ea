// pgbench with the append path's row shape (bench/pgbench-append.sql): one transaction per row,
// client N writing to its own session. The machine's ceiling for one-row commits, measured in the
// same run as the figure it is compared with.
import { adminQuery, Child } from './services.mjs';

export async function pgbench(db, { concurrency, seconds }) {
  const ids = Array.from({ length: concurrency }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  await adminQuery(
    `insert into sessions (id, agent, state) select unnest($1::uuid[]), 'demo', 'CREATED' on conflict (id) do nothing`,
    [ids],
    db.url,
  );
  const file = 'bench/pgbench-append.sql';
  const url = new URL(db.url);
  const threads = Math.min(2, concurrency);
  const args = ['-n', '-f', file, '-c', String(concurrency), '-j', String(threads), '-T', String(seconds), '-h', url.hostname, '-p', url.port || '5432', '-U', url.username || 'postgres', db.name];
  const run = new Child('pgbench', 'pgbench', args); // cwd: the repository root
  const { code } = await run.exited;
  const out = run.logs();
  if (code !== 0) throw new Error(`pgbench failed (${code}): ${out}`);
  const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
  const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
  return { tps: Math.round(tps), latencyAvgMs: latencyMs, command: `pgbench ${args.join(' ')}` };
}
