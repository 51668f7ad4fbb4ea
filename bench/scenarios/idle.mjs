// Scenario 3: many idle streams on one API node with heartbeats on: RSS per stream and CPU at idle.
import { closeAll, collectAll, openSpread } from '../lib/clients.mjs';
import { cpuTicks, rssKb } from '../lib/proc.mjs';
import { seedSessions } from '../lib/seed.mjs';
import { sleep, startApi } from '../lib/services.mjs';
import { round } from '../lib/stats.mjs';

export function idleParams(quick) {
  return quick
    ? { streams: 200, heartbeatMs: 500, idleMs: 2000, clientProcesses: 1 }
    : { streams: 10_000, heartbeatMs: 5000, idleMs: 15_000, clientProcesses: 4 };
}

export async function idleScenario(ctx) {
  const params = idleParams(ctx.quick);
  const ids = await seedSessions(ctx.db.url, { count: params.streams, events: 1, state: 'SUSPENDED' });
  const api = await startApi('api-idle', {
    databaseUrl: ctx.db.url,
    redisUrl: ctx.redis.url,
    env: { HEARTBEAT_MS: String(params.heartbeatMs) },
  });
  let clients = [];
  try {
    // warm the node up with a few streams, so the baseline includes the code paths' own memory
    const warm = await openSpread(1, 'sse', ids.slice(0, 20).map((id) => ({ url: `${api.url}/v1/sessions/${id}/stream?after=1` })));
    await sleep(1000);
    await closeAll(warm.clients);
    await sleep(1000);
    const baseKb = rssKb(api.pid);
    const t0 = performance.now();
    const targets = ids.map((id) => ({ url: `${api.url}/v1/sessions/${id}/stream?after=1` }));
    const opened = await openSpread(params.clientProcesses, 'sse', targets, { concurrency: 100 });
    clients = opened.clients;
    const openSeconds = (performance.now() - t0) / 1000;
    await sleep(2000);
    await collectAll(clients);
    const ticks0 = cpuTicks(api.pid);
    const idleT0 = performance.now();
    let peakKb = rssKb(api.pid);
    const end = idleT0 + params.idleMs;
    while (performance.now() < end) {
      await sleep(250);
      peakKb = Math.max(peakKb, rssKb(api.pid));
    }
    const idleSeconds = (performance.now() - idleT0) / 1000;
    const cpuPct = ((cpuTicks(api.pid) - ticks0) / 100 / idleSeconds) * 100;
    const got = await collectAll(clients);
    const liveKb = rssKb(api.pid);
    const streams = params.streams - opened.failed;
    const result = {
      streams,
      failedToOpen: opened.failed,
      heartbeatMs: params.heartbeatMs,
      openSeconds: round(openSeconds, 1),
      rssBaseMb: round(baseKb / 1024, 1),
      rssWithStreamsMb: round(liveKb / 1024, 1),
      rssPeakMb: round(peakKb / 1024, 1),
      bytesPerStream: Math.round(((liveKb - baseKb) * 1024) / streams),
      idleCpuPct: round(cpuPct, 1),
      heartbeatsReceived: got.heartbeats,
      heartbeatsExpected: Math.floor((streams * idleSeconds * 1000) / params.heartbeatMs),
      streamsClosed: got.closes,
      idleSeconds: round(idleSeconds, 1),
    };
    console.log(`   ${streams} idle streams: ${result.bytesPerStream} bytes/stream, ${result.idleCpuPct}% CPU at idle, ${got.heartbeats} heartbeats`);
    return result;
  } finally {
    await closeAll(clients);
    await api.kill('SIGTERM');
  }
}
