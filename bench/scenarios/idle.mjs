// Scenario 3: idle streams on one node, at two sizes, each measured for Sessionwire (one API node,
// real Postgres and Redis) and for the raw `node:http` floor (bench/peers/raw-sse-node.mjs) in the
// same run: bytes per stream (RSS and V8 heap), CPU at idle, heartbeats received / expected, and
// the open rate. Ratios are ours / floor.
//
// Memory is read after two forced full GCs (through each server's V8 inspector, the same way for
// both), so a figure is what a server retains, not garbage it has not collected yet.
//
// Descriptors: a server holding N streams needs about N + 1024 of them; children are started with
// `ulimit -n` raised up to the hard limit (see lib/limits.mjs), and a size the hard limit cannot
// hold is reported as skipped, and the most streams it can hold are measured in its place.
// Streams open in two halves: besides the cost per stream of all of them, the second half's own
// cost per stream is reported (what a stream adds once the code, pools and tables every stream
// shares are in place, and the opening burst's one-off allocations of the first half are behind).
//
// Ephemeral ports: every client process opens its connections from its own source address
// (127.0.0.2, 127.0.0.3, …), each with its own ~28k ports towards the one server port, and holds
// at most CLIENT_STREAMS of them. Every measurement takes addresses no earlier one used: the thousands of connections a measurement closes stay in TIME_WAIT on their
// source address for a minute, and opening from that address again is several times slower (the
// kernel searches past them for a free port), which would slow whichever server is measured second.
import { closeAll, collectAll, openSpread } from '../lib/clients.mjs';
import { Inspector, inspectPort } from '../lib/inspector.mjs';
import { descriptorsFor, openFileLimits } from '../lib/limits.mjs';
import { cpuTicks, rssKb } from '../lib/proc.mjs';
import { seedSessions } from '../lib/seed.mjs';
import { Child, freePort, sleep, startApi, waitFor } from '../lib/services.mjs';
import { ratio, round } from '../lib/stats.mjs';

const CLIENT_STREAMS = 12_500;

/** The next unused client source address (127.0.0.N). */
let nextAddress = 2;

export function idleParams(quick) {
  return quick
    ? { sizes: [150, 300], heartbeatMs: 500, idleMs: 1600, settleMs: 500 }
    : { sizes: [10_000, 50_000], heartbeatMs: 5000, idleMs: 15_500, settleMs: 3000 };
}

/** The raw node:http floor: streams of synthetic ids. */
async function startFloor(streams, params, openFiles) {
  const port = await freePort();
  const debug = await inspectPort();
  const node = new Child('raw-sse', process.execPath, [`--inspect=127.0.0.1:${debug}`, 'bench/peers/raw-sse-node.mjs'], {
    env: { PORT: String(port), HEARTBEAT_MS: String(params.heartbeatMs) },
    openFiles,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('raw-sse ready', async () => {
    if (!node.running) throw new Error(`raw-sse exited: ${node.logs()}`);
    return (await fetch(`${url}/readyz`)).ok;
  });
  return {
    pid: node.pid,
    inspector: await Inspector.connect(debug),
    targets: Array.from({ length: streams }, (_, i) => ({ url: `${url}/stream/s${i}` })),
    stop: () => node.kill('SIGTERM'),
  };
}

/** One API node on sessions resting in SUSPENDED (one event each), streamed from their head. */
async function startOurs(ctx, streams, params, openFiles) {
  const ids = await seedSessions(ctx.db.url, { count: streams, events: 1, state: 'SUSPENDED' });
  const debug = await inspectPort();
  const api = await startApi(`api-idle-${streams}`, {
    databaseUrl: ctx.db.url,
    redisUrl: ctx.redis.url,
    env: { HEARTBEAT_MS: String(params.heartbeatMs) },
    openFiles,
    nodeArgs: [`--inspect=127.0.0.1:${debug}`],
  });
  return {
    pid: api.pid,
    inspector: await Inspector.connect(debug),
    targets: ids.map((id) => ({ url: `${api.url}/v1/sessions/${id}/stream?after=1` })),
    stop: () => api.kill('SIGTERM'),
  };
}

/** The server's memory after two full GCs. */
async function retained(server) {
  await server.inspector.collectGarbage();
  return server.inspector.memoryUsage();
}

/** Opens `streams` idle streams on a server, in two halves, lets them idle, and measures the server. */
async function measure(server, streams, params, limits) {
  // each half is opened by its own client processes (each from its own source address)
  const halfProcesses = Math.ceil(Math.ceil(streams / CLIENT_STREAMS) / 2);
  const perClient = Math.ceil(streams / 2 / halfProcesses);
  const clientFiles = descriptorsFor(perClient) > limits.soft ? descriptorsFor(perClient) : undefined;
  const first = nextAddress;
  nextAddress += 2 * halfProcesses;
  const perClientOptions = (offset) => (i) => ({ localAddress: `127.0.0.${first + offset + i}`, openFiles: clientFiles });
  const clients = [];
  try {
    // warm the server up with a few streams, so the baseline includes the code paths' own memory
    const warm = await openSpread(1, 'sse', server.targets.slice(0, 20), {}, () => ({}));
    await sleep(1000);
    await closeAll(warm.clients);
    await sleep(1000);
    const base = await retained(server);
    const halfway = Math.floor(server.targets.length / 2);
    let openSeconds = 0;
    let failed = 0;
    const openHalf = async (targets, offset) => {
      const t0 = performance.now();
      const opened = await openSpread(halfProcesses, 'sse', targets, { concurrency: 100 }, perClientOptions(offset));
      openSeconds += (performance.now() - t0) / 1000;
      failed += opened.failed;
      clients.push(...opened.clients);
      await sleep(params.settleMs);
      return targets.length - opened.failed;
    };
    const firstHalf = await openHalf(server.targets.slice(0, halfway), 0);
    const half = await retained(server);
    await openHalf(server.targets.slice(halfway), halfProcesses);
    await collectAll(clients);
    const ticks0 = cpuTicks(server.pid);
    const idleT0 = performance.now();
    let peakKb = rssKb(server.pid);
    while (performance.now() < idleT0 + params.idleMs) {
      await sleep(250);
      peakKb = Math.max(peakKb, rssKb(server.pid));
    }
    const got = await collectAll(clients);
    const idleSeconds = (performance.now() - idleT0) / 1000;
    const cpuPct = ((cpuTicks(server.pid) - ticks0) / 100 / idleSeconds) * 100;
    const live = await retained(server);
    const held = streams - failed;
    const perStream = (key) => Math.round((live[key] - base[key]) / held);
    // The second half's own cost: what each stream added once the first half had opened (the
    // code, pools and tables every stream shares were in place by then).
    const secondHalf = (key) => Math.round((live[key] - half[key]) / (held - firstHalf));
    const ticks = Math.floor((idleSeconds * 1000) / params.heartbeatMs);
    const short = Object.entries(got.heartbeatsPerStream).reduce((n, [count, k]) => (Number(count) < ticks ? n + k : n), 0);
    return {
      streams: held,
      failedToOpen: failed,
      clientProcesses: clients.length,
      openSeconds: round(openSeconds, 1),
      openedPerSecond: Math.round(held / openSeconds),
      rssBaseMb: round(base.rss / 2 ** 20, 1),
      rssHalfMb: round(half.rss / 2 ** 20, 1),
      rssWithStreamsMb: round(live.rss / 2 ** 20, 1),
      rssPeakMb: round(peakKb / 1024, 1),
      bytesPerStream: perStream('rss'),
      heapBytesPerStream: perStream('heapUsed'),
      externalBytesPerStream: perStream('external'),
      secondHalfBytesPerStream: secondHalf('rss'),
      secondHalfHeapBytesPerStream: secondHalf('heapUsed'),
      idleCpuPct: round(cpuPct, 1),
      heartbeatsReceived: got.heartbeats,
      heartbeatsExpected: held * ticks,
      streamsShortOfHeartbeats: short,
      streamsClosed: got.closes,
      idleSeconds: round(idleSeconds, 1),
    };
  } finally {
    await closeAll(clients);
  }
}

/** The most streams (in thousands) one server can hold under the hard descriptor limit. */
function largestHeld(hard) {
  return Math.floor((hard - descriptorsFor(0)) / 1000) * 1000;
}

async function measureSize(ctx, streams, params, limits) {
  const needed = descriptorsFor(streams);
  if (needed > limits.hard) {
    return { skipped: `needs ulimit -n ≥ ${needed} for the server; the hard limit here is ${limits.hard}` };
  }
  const openFiles = needed > limits.soft ? needed : undefined;
  const run = {};
  for (const [key, start] of [['floor', startFloor], ['sessionwire', (...a) => startOurs(ctx, ...a)]]) {
    const server = await start(streams, params, openFiles);
    try {
      run[key] = await measure(server, streams, params, limits);
    } finally {
      server.inspector.close();
      await server.stop();
    }
    const r = run[key];
    console.log(`   ${key} ${r.streams} idle streams: ${r.bytesPerStream} B/stream (heap ${r.heapBytesPerStream}), ${r.idleCpuPct}% CPU, heartbeats ${r.heartbeatsReceived}/${r.heartbeatsExpected}, ${r.openedPerSecond} opened/s`);
  }
  run.oursOverFloor = {
    bytesPerStream: ratio(run.sessionwire.bytesPerStream, run.floor.bytesPerStream),
    heapBytesPerStream: ratio(run.sessionwire.heapBytesPerStream, run.floor.heapBytesPerStream),
    secondHalfBytesPerStream: ratio(run.sessionwire.secondHalfBytesPerStream, run.floor.secondHalfBytesPerStream),
    secondHalfHeapBytesPerStream: ratio(run.sessionwire.secondHalfHeapBytesPerStream, run.floor.secondHalfHeapBytesPerStream),
    idleCpuPct: ratio(run.sessionwire.idleCpuPct, run.floor.idleCpuPct),
    openedPerSecond: ratio(run.sessionwire.openedPerSecond, run.floor.openedPerSecond),
  };
  return run;
}

export async function idleScenario(ctx) {
  const params = { ...idleParams(ctx.quick), ...(ctx.idleSizes ? { sizes: ctx.idleSizes } : {}) };
  const limits = openFileLimits();
  const runs = {};
  const sizes = [];
  for (const streams of params.sizes) {
    sizes.push(streams);
    runs[streams] = await measureSize(ctx, streams, params, limits);
    if (!runs[streams].skipped) continue;
    console.log(`   ${streams} streams skipped: ${runs[streams].skipped}`);
    // In its place, the most streams the hard limit lets one server hold, if more than measured.
    const largest = largestHeld(limits.hard);
    if (largest > Math.max(0, ...sizes.filter((n) => !runs[n].skipped)) && !params.sizes.includes(largest)) {
      sizes.push(largest);
      runs[largest] = { ...(await measureSize(ctx, largest, params, limits)), insteadOf: streams };
    }
  }
  return {
    sizes,
    heartbeatMs: params.heartbeatMs,
    idleMs: params.idleMs,
    openFileLimits: { soft: limits.soft, hard: limits.hard },
    runs,
  };
}
