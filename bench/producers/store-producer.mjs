// Producer process for Sessionwire (run with `node --import tsx`): appends through the worker's
// own path, EventStore.append on the write module (group commit, APPEND_BATCH_MAX = `batchMax`)
// whose commit hook publishes the hints, stamping the send time into each delta so clients
// measure append→client latency in one clock.
//
//   {cmd:'setup', databaseUrl, redisUrl, sessions, batchMax?, commitsMax?, namedStatements?} -> {type:'ready', sessionIds}
//   {cmd:'run', rate, durationMs, padding}               -> {type:'done', appended, failed, achievedRate, storedMs}
//   {cmd:'append-max', durationMs, concurrency, flushMs} -> {type:'done', rows, tokens, ...}
import { createRequire } from 'node:module';
import { v7 as uuidv7 } from 'uuid';
import { latencySummary, nowMs } from '../lib/stats.mjs';

// the libraries are CommonJS TypeScript: load them through tsx's require hook
const require = createRequire(import.meta.url);
const { connectPostgres, EventStore, SessionWriter, publishCommitted } = require('../../libs/events/src');
const { RedisBroker } = require('../../libs/transport/src/server');

let handle;
let store;
let broker;
let sessionIds = [];
/** Commits the write module made (one per group of appends). */
let commits = 0;
/** Duration of each commit (ms), reset by every run. */
let commitMs = [];
const observer = {
  depth() {},
  waited() {},
  committed: (_writes, _path, _outcome, seconds) => {
    commits += 1;
    commitMs.push(seconds * 1000);
  },
};
const turnId = uuidv7();

function delta(text) {
  return { type: 'message.delta', data: { turnId, text } };
}

async function setup({ databaseUrl, redisUrl, sessions, batchMax, commitsMax, namedStatements }) {
  handle = connectPostgres({ url: databaseUrl, applicationName: 'sessionwire-bench', max: 16, namedStatements });
  broker = redisUrl
    ? new RedisBroker({ url: redisUrl, connectionName: 'bench-producer', onError: (e, c) => console.error(c, e.message) })
    : undefined;
  const onCommitted = broker ? publishCommitted(broker) : undefined;
  store = new EventStore(handle.db, new SessionWriter(handle.db, { batchMax, commitsMax, onCommitted, observer }));
  sessionIds = [];
  for (let i = 0; i < sessions; i++) {
    const id = uuidv7();
    await store.createSession({ id, agent: 'demo' });
    sessionIds.push(id);
  }
  return { type: 'ready', sessionIds };
}

/**
 * Open loop at `rate` events/s spread round-robin over the sessions, each event stamped when it
 * falls due. A session has at most one append in flight; events that fall due meanwhile go into
 * its next append as one transaction (as a worker's flush does), so the stamp-to-client latency
 * includes any wait for the store.
 */
async function run({ rate, durationMs, padding = 80 }) {
  const pad = 'x'.repeat(padding);
  const pending = new Map(sessionIds.flatMap((id) => [[id, []], [`${id}:stamps`, []]]));
  const busy = new Set();
  const inFlight = new Set();
  let due = 0;
  let appended = 0;
  let failed = 0;
  /** Stamp → append answered, per event: the write path's share of the client's latency. */
  const stored = [];
  const commitsBefore = commits;
  commitMs = [];
  const started = performance.now();
  const flush = (id) => {
    const events = pending.get(id).splice(0, 200);
    const stamps = pending.get(`${id}:stamps`).splice(0, 200);
    busy.add(id);
    const p = store
      .append(id, events)
      .then((written) => {
        appended += written.length;
        const at = nowMs();
        for (const stamp of stamps) stored.push(at - stamp);
      })
      .catch((error) => {
        failed += events.length;
        console.error('append failed', error.message);
      })
      .finally(() => {
        busy.delete(id);
        inFlight.delete(p);
        if (pending.get(id).length) flush(id);
      });
    inFlight.add(p);
  };
  await new Promise((done) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      if (elapsed >= durationMs) {
        clearInterval(timer);
        done();
        return;
      }
      const target = Math.floor((rate * elapsed) / 1000);
      for (; due < target; due++) {
        const id = sessionIds[due % sessionIds.length];
        const stamp = nowMs();
        pending.get(id).push(delta(`@${stamp.toFixed(3)}|${pad}`));
        pending.get(`${id}:stamps`).push(stamp);
      }
      for (const id of sessionIds) if (!busy.has(id) && pending.get(id).length) flush(id);
    }, 5);
  });
  while (inFlight.size) await Promise.all(inFlight);
  const seconds = durationMs / 1000;
  return {
    type: 'done',
    appended,
    failed,
    transactions: commits - commitsBefore,
    achievedRate: Math.round(appended / seconds),
    storedMs: latencySummary(stored),
    commitMs: latencySummary(commitMs),
  };
}

/**
 * Closed loop, as fast as the store goes: `concurrency` sessions each append in a loop. With
 * `flushMs` 0 every token is its own row (coalescing off); otherwise a fast agent's tokens are
 * gathered for `flushMs` and written as one delta row, as the worker does (coalescing on).
 */
async function appendMax({ durationMs, concurrency, flushMs }) {
  const commitsBefore = commits;
  let rows = 0;
  let tokens = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    sessionIds.slice(0, concurrency).map(async (id) => {
      let pending = 0;
      let since = performance.now();
      while (performance.now() < deadline) {
        if (flushMs === 0) {
          await store.append(id, [delta('t0 ')]);
          rows += 1;
          tokens += 1;
          continue;
        }
        // the agent emits a token per macrotask; the flush writes what gathered in flushMs
        await new Promise((r) => setImmediate(r));
        pending += 1;
        if (performance.now() - since >= flushMs) {
          await store.append(id, [delta('t0 '.repeat(pending))]);
          rows += 1;
          tokens += pending;
          pending = 0;
          since = performance.now();
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { type: 'done', rows, tokens, commits: commits - commitsBefore, rowsPerSec: Math.round(rows / seconds), tokensPerSec: Math.round(tokens / seconds) };
}

process.on('message', (message) => {
  const job =
    message.cmd === 'setup' ? setup(message) : message.cmd === 'run' ? run(message) : message.cmd === 'append-max' ? appendMax(message) : null;
  if (message.cmd === 'close') {
    Promise.all([broker?.close(), handle?.close()]).finally(() => process.exit(0));
    return;
  }
  job.then(
    (reply) => process.send(reply),
    (error) => process.send({ type: 'error', message: error.stack ?? String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
