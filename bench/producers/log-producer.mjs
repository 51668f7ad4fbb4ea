// Producer process for the partitioned-log scenario (run with `node --import tsx`): appends and
// reads through the EventStore exactly as the worker and the API do, on the database it is given.
//
//   {cmd:'setup', databaseUrl, sessions}              -> {type:'ready', sessionIds}
//   {cmd:'append-max', durationMs, concurrency}       -> {type:'done', rows, rowsPerSec}
//   {cmd:'read-max', durationMs, sessionIds, behind}  -> {type:'done', reads, readsPerSec}
import { createRequire } from 'node:module';
import { v7 as uuidv7 } from 'uuid';

const require = createRequire(import.meta.url);
const { connectPostgres, EventStore } = require('../../libs/events/src');

let handle;
let store;
let sessionIds = [];
const turnId = uuidv7();

async function setup({ databaseUrl, sessions }) {
  handle = connectPostgres({ url: databaseUrl, applicationName: 'sessionwire-bench', max: 16 });
  store = new EventStore(handle.db);
  sessionIds = [];
  for (let i = 0; i < sessions; i++) {
    const id = uuidv7();
    await store.createSession({ id, agent: 'demo' });
    sessionIds.push(id);
  }
  return { type: 'ready', sessionIds };
}

/** Closed loop: `concurrency` sessions each append one delta row per transaction, as fast as it goes. */
async function appendMax({ durationMs, concurrency }) {
  let rows = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    sessionIds.slice(0, concurrency).map(async (id) => {
      while (performance.now() < deadline) {
        await store.append(id, [{ type: 'message.delta', data: { turnId, text: 't0 ' } }]);
        rows += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { type: 'done', rows, rowsPerSec: Math.round(rows / seconds) };
}

/**
 * Closed loop of resumes: each of the given sessions in turn reads the 100 events after
 * `head - behind` (a client `behind` events behind its head), 4 reads in flight.
 */
async function readMax({ durationMs, sessionIds: ids, behind }) {
  const heads = await store.getHeads(ids);
  let reads = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (performance.now() < deadline) {
        const id = ids[next++ % ids.length];
        const head = heads.get(id)?.headSeq ?? 0;
        const events = await store.getEventsAfter(id, Math.max(0, head - behind), 100);
        if (events.length === 0) throw new Error(`no events read for ${id}`);
        reads += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { type: 'done', reads, readsPerSec: Math.round(reads / seconds) };
}

process.on('message', (message) => {
  if (message.cmd === 'close') {
    Promise.resolve(handle?.close()).finally(() => process.exit(0));
    return;
  }
  const job = { setup, 'append-max': appendMax, 'read-max': readMax }[message.cmd];
  job(message).then(
    (reply) => process.send(reply),
    (error) => process.send({ type: 'error', message: error.stack ?? String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
