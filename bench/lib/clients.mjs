// Runs load-client processes and talks to them over IPC.
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { withOpenFiles } from './limits.mjs';

const CLIENT = resolve(import.meta.dirname, '..', 'clients', 'load-client.mjs');

/** A forked load-client process; `openFiles` raises its descriptor limit (see limits.mjs). */
export class LoadClient {
  constructor(name, { openFiles } = {}) {
    this.name = name;
    const { command, args } = withOpenFiles(openFiles, process.execPath, []);
    this.child = fork(CLIENT, [], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      ...(openFiles ? { execPath: command, execArgv: args } : {}),
    });
    this.stderr = '';
    this.child.stderr.on('data', (c) => (this.stderr = (this.stderr + c).slice(-4000)));
    this.waiters = [];
    this.child.on('message', (message) => {
      const i = this.waiters.findIndex((w) => w.type === message.type || message.type === 'error');
      if (i === -1) return;
      const [waiter] = this.waiters.splice(i, 1);
      if (message.type === 'error') waiter.reject(new Error(`${name}: ${message.message}`));
      else waiter.resolve(message);
    });
    this.child.on('exit', (code) => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${name} exited (${code}): ${this.stderr}`));
    });
  }
  get pid() {
    return this.child.pid;
  }
  request(message, type, timeoutMs = 120_000) {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (m) => (clearTimeout(timer), resolvePromise(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.send(message);
    });
  }
  open(kind, targets, extra = {}) {
    return this.request({ cmd: 'open', kind, targets, ...extra }, 'opened');
  }
  collect() {
    return this.request({ cmd: 'collect' }, 'stats');
  }
  async close() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'close' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Splits targets over `n` client processes, opens them all, returns the clients. `perClient(i)`
 * may give client i a source address (`localAddress`: each address has its own ~28k ephemeral
 * ports towards one server port) and a descriptor limit (`openFiles`).
 */
export async function openSpread(n, kind, targets, extra = {}, perClient = () => ({})) {
  const options = Array.from({ length: n }, (_, i) => perClient(i));
  const clients = options.map((o, i) => new LoadClient(`client-${i}`, { openFiles: o.openFiles }));
  const parts = clients.map((_, i) => targets.filter((__, j) => j % n === i));
  const results = await Promise.all(
    clients.map((c, i) => c.open(kind, parts[i], { ...extra, localAddress: options[i].localAddress })),
  );
  const failed = results.reduce((s, r) => s + r.failed, 0);
  return { clients, failed };
}

/** Collects and merges stats of every client. */
export async function collectAll(clients) {
  const all = await Promise.all(clients.map((c) => c.collect()));
  const merged = { received: 0, latencies: [], bytes: 0, closes: 0, errors: 0, frames: 0, heartbeats: 0, liveAfterReconnect: 0, reconnectMs: [], heartbeatsPerStream: {}, completions: [] };
  for (const s of all) {
    for (const key of ['received', 'bytes', 'closes', 'errors', 'frames', 'heartbeats', 'liveAfterReconnect']) merged[key] += s[key];
    for (const v of s.latencies) merged.latencies.push(v);
    for (const v of s.reconnectMs) merged.reconnectMs.push(v);
    for (const v of s.completions ?? []) merged.completions.push(v);
    for (const [count, streams] of Object.entries(s.heartbeatsPerStream)) {
      merged.heartbeatsPerStream[count] = (merged.heartbeatsPerStream[count] ?? 0) + streams;
    }
  }
  return merged;
}

export async function closeAll(clients) {
  await Promise.all(clients.map((c) => c.close()));
}
