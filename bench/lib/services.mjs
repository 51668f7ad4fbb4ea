// Services for a bench run: a private redis-server, a private Postgres database, and the built
// API/worker processes started as children with their output kept for errors.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { createRequire } from 'node:module';
import { withOpenFiles } from './limits.mjs';

// the libraries are CommonJS TypeScript: load them through tsx's require hook
const { migratePostgres } = createRequire(import.meta.url)('../../libs/events/src/migrator');

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what, check, timeoutMs = 20_000, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * A child process with its output kept (last 200 chunks) for error messages. `openFiles` raises
 * its descriptor limit (see limits.mjs); the pid is still the command's own (the shell execs it).
 */
export class Child {
  constructor(name, command, args, options = {}) {
    this.name = name;
    this.output = [];
    ({ command, args } = withOpenFiles(options.openFiles, command, args));
    this.child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.exited = new Promise((done) => this.child.once('exit', (code, signal) => done({ code, signal })));
    this.running = true;
    this.exited.then(() => (this.running = false));
  }
  get pid() {
    return this.child.pid;
  }
  logs() {
    return this.output.join('').slice(-4000);
  }
  async kill(signal = 'SIGKILL') {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A private redis-server on a free port (no persistence), so the bench never touches shared data. */
export async function startRedis() {
  const port = await freePort();
  const redis = new Child('redis', 'redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1']);
  await waitFor('redis-server', () => /Ready to accept connections/.test(redis.output.join('')), 10_000);
  redis.url = `redis://127.0.0.1:${port}`;
  redis.port = port;
  return redis;
}

export async function adminQuery(sql, params, url = PG_URL) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export function databaseUrl(name) {
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates a fresh database and applies the committed migrations (the same migrator the API runs). */
export async function createBenchDatabase() {
  const name = `sw_bench_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = databaseUrl(name);
  await migratePostgres(url, 'sessionwire-bench');
  return {
    name,
    url,
    drop: () => adminQuery(`drop database if exists ${name} with (force)`),
  };
}

/** Starts a built API node (dist/apps/api/main.js) and waits for /readyz. */
/** `BENCH_CPU_PROF=dir`: API nodes, workers and producers write a `--cpu-prof` profile there when they exit. */
export const cpuProfArgs = () =>
  process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(ROOT, process.env.BENCH_CPU_PROF)}`] : [];

export async function startApi(name, { databaseUrl: dbUrl, redisUrl, env = {}, openFiles, nodeArgs = [] }) {
  const port = await freePort();
  const api = new Child(name, process.execPath, [...cpuProfArgs(), ...nodeArgs, 'dist/apps/api/main.js'], {
    openFiles,
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl,
      API_KEYS: '',
      AUTH_SECRET: '',
      ...env,
    },
  });
  api.port = port;
  api.url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${name} ready`, async () => {
      if (!api.running) throw new Error(`${name} exited:\n${api.logs()}`);
      return (await fetch(`${api.url}/readyz`)).ok;
    }, 30_000, 100);
  } catch (error) {
    await api.kill();
    throw new Error(`${error.message}\n--- ${name} output ---\n${api.logs()}`);
  }
  return api;
}

/** Starts a built worker (dist/apps/worker/main.js) and waits for its `worker … ready` line. */
export async function startWorker(name, { databaseUrl: dbUrl, redisUrl, env = {} }) {
  const worker = new Child(name, process.execPath, [...cpuProfArgs(), 'dist/apps/worker/main.js'], {
    env: { NODE_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: dbUrl, REDIS_URL: redisUrl, WORKER_ID: name, PORT: '', ...env },
  });
  await waitFor(`${name} ready`, () => {
    if (!worker.running) throw new Error(`${name} exited:\n${worker.logs()}`);
    return /worker \S+ ready/.test(worker.output.join(''));
  }, 30_000, 100);
  return worker;
}
