#!/usr/bin/env node
// Starts a local Sessionwire cluster from the built output: N API nodes and M workers behind a
// round-robin, SSE-safe load balancer, against local Postgres and Redis. Ctrl-C stops everything.
//
//   npm run build && npm run cluster -- --api 2 --workers 2 [--port 8080] [--no-migrate]
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
require('./register-ts.js');
const { LocalCluster } = require('../test/cluster.ts');
const { startBanner } = require('../apps/standalone/src/start-banner.ts');

const { values } = parseArgs({
  options: {
    api: { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
    port: { type: 'string', default: '8080' },
    'no-migrate': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npm run cluster -- [--api N] [--workers M] [--port P] [--no-migrate]\n' +
      'env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),\n' +
      '     REDIS_URL (default redis://127.0.0.1:6379), and any API/worker setting',
  );
  process.exit(0);
}

function count(name, value, min) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer >= ${min}, got ${value}`);
    process.exit(2);
  }
  return n;
}

const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const options = {
  apiNodes: count('api', values.api, 1),
  workers: count('workers', values.workers, 0),
  port: count('port', values.port, 0),
  databaseUrl,
  redisUrl,
  migrate: !values['no-migrate'],
  env: {
    LOG_LEVEL: process.env.LOG_LEVEL || 'info',
    NODE_ENV: process.env.NODE_ENV || 'development',
  },
};

console.log(`starting ${options.apiNodes} API node(s) and ${options.workers} worker(s)…`);
const cluster = await LocalCluster.start(options);
console.log(`load balancer ${cluster.url} → ${cluster.apiUrls.join(', ')}`);
console.log(
  startBanner({
    port: Number(new URL(cluster.url).port),
    mode: `${options.apiNodes} API node(s) and ${options.workers} worker(s) behind a load balancer`,
    authEnabled: Boolean(process.env.API_KEYS || process.env.AUTH_SECRET),
  }),
);
console.log('Ctrl-C stops the cluster');

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the cluster…`);
  await cluster.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

const exited = [...cluster.apis, ...cluster.workers];
setInterval(() => {
  for (const p of exited) {
    if (!p.running && !stopping) {
      console.error(`${p.spec.name} exited (${p.exitCode ?? p.exitSignal}):\n${p.logs()}`);
      exited.splice(exited.indexOf(p), 1);
    }
  }
}, 1000).unref();
