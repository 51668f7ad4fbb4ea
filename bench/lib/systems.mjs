// The three systems measured on the same workload: Sessionwire (2 API nodes, producer appending
// through EventStore), Socket.IO + redis-adapter (2 nodes, an emitter process), and
// resumable-stream + ioredis (2 nodes, a producer process holding the streams). Each system has
// two serving nodes, one producer process, and the same Redis.
import { Producer } from './producer.mjs';
import { apiMetrics } from './seed.mjs';
import { Child, freePort, startApi, waitFor } from './services.mjs';

async function startPeerNode(name, script, redisUrl) {
  const port = await freePort();
  const node = new Child(name, process.execPath, [script], { env: { PORT: String(port), REDIS_URL: redisUrl, BENCH_RUN: String(process.pid) } });
  node.url = `http://127.0.0.1:${port}`;
  await waitFor(`${name} ready`, async () => {
    if (!node.running) throw new Error(`${name} exited: ${node.logs()}`);
    return (await fetch(`${node.url}/readyz`)).ok;
  });
  return node;
}

/** Sessionwire with the producer's write module set up with `writer` (batchMax, commitsMax). */
function sessionwire(label, writer = {}) {
  return {
    label,
    clientKind: 'sse',
    async start({ db, redis, sessions, apiEnv = {} }) {
      const nodes = [
        await startApi('api-a', { databaseUrl: db.url, redisUrl: redis.url, env: apiEnv }),
        await startApi('api-b', { databaseUrl: db.url, redisUrl: redis.url, env: apiEnv }),
      ];
      const producer = new Producer('producers/store-producer.mjs', 'sessionwire-producer');
      const { sessionIds } = await producer.request({ cmd: 'setup', databaseUrl: db.url, redisUrl: redis.url, sessions, ...writer });
      return {
        nodes,
        producer,
        sessionIds,
        target: (node, id) => ({ url: `${node.url}/v1/sessions/${id}/stream?after=0` }),
        /** The stream engine's counters of each node (hint misses, catch-up reads, ...). */
        metrics: () => Promise.all(nodes.map((n) => apiMetrics(n.url))),
        stop: async () => {
          await producer.close();
          await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
        },
      };
    },
  };
}

export const SYSTEMS = {
  sessionwire: sessionwire('Sessionwire'),
  // the same with one group commit in flight at a time (the next batch waits for it)
  sessionwireOneCommit: sessionwire('Sessionwire, APPEND_COMMITS_MAX=1', { commitsMax: 1 }),
  socketio: {
    label: 'Socket.IO + redis-adapter',
    clientKind: 'socketio',
    async start({ redis, sessions }) {
      const nodes = [
        await startPeerNode('sio-a', 'bench/peers/socketio-node.mjs', redis.url),
        await startPeerNode('sio-b', 'bench/peers/socketio-node.mjs', redis.url),
      ];
      const producer = new Producer('peers/socketio-node.mjs', 'socketio-emitter', { REDIS_URL: redis.url, PORT: '' });
      const { sessionIds } = await producer.request({ cmd: 'setup', sessions });
      return {
        nodes,
        producer,
        sessionIds,
        runExtra: { sessions },
        target: (node, id) => ({ url: node.url, room: id }),
        stop: async () => {
          await producer.close();
          await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
        },
      };
    },
  },
  resumable: {
    label: 'resumable-stream + ioredis',
    clientKind: 'sse',
    async start({ redis, sessions }) {
      const nodes = [
        await startPeerNode('rs-a', 'bench/peers/resumable-node.mjs', redis.url),
        await startPeerNode('rs-b', 'bench/peers/resumable-node.mjs', redis.url),
      ];
      const producer = new Producer('peers/resumable-node.mjs', 'resumable-producer', { REDIS_URL: redis.url, PORT: '', BENCH_RUN: String(process.pid) });
      const { sessionIds } = await producer.request({ cmd: 'setup', sessions });
      return {
        nodes,
        producer,
        sessionIds,
        target: (node, id) => ({ url: `${node.url}/stream/${id}` }),
        stop: async () => {
          await producer.close();
          await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
        },
      };
    },
  },
};
