import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Thrown by a {@link waitFor} check to stop waiting at once (the awaited thing cannot happen). */
export class WaitAborted extends Error {}

/**
 * Polls `check` until it returns true or `timeoutMs` passes (then throws with `what`). A check
 * that throws counts as "not yet", except a {@link WaitAborted}, which ends the wait at once.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof WaitAborted) throw error;
      // otherwise not yet: the check's own failure (connection refused …) is what we wait out
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export interface ProcessSpec {
  /** Shown in logs and errors, e.g. `api-a`. */
  name: string;
  /** Built entry point relative to the repo root, e.g. `dist/apps/api/main.js`. */
  entry: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Ready when this URL answers 2xx. */
  readyUrl?: string;
  /** Or ready when a line of output matches. */
  readyLine?: RegExp;
  readyTimeoutMs?: number;
}

/**
 * A built app started as a real child process (`node <entry>`), with its output kept for
 * debugging. Tests use it to start, SIGTERM, SIGKILL and restart API nodes and workers.
 */
export class ManagedProcess {
  child?: ChildProcess;
  readonly output: string[] = [];
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  private exited?: Promise<void>;

  constructor(readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.exitCode === null && this.exitSignal === null;
  }

  async start(): Promise<this> {
    const { spec } = this;
    this.exitCode = null;
    this.exitSignal = null;
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn' };
    for (const [k, v] of Object.entries(spec.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const child = spawn(process.execPath, [spec.entry, ...(spec.args ?? [])], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let sawLine = false;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output.push(text);
      if (this.output.length > 2000) this.output.splice(0, 1000);
      if (spec.readyLine?.test(text)) sawLine = true;
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((done) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        done();
      }),
    );
    await waitFor(
      `${spec.name} to be ready`,
      async () => {
        if (!this.running) throw new WaitAborted(`${spec.name} exited before it was ready`);
        if (spec.readyLine) return sawLine;
        if (spec.readyUrl) return (await fetch(spec.readyUrl)).ok;
        return true;
      },
      spec.readyTimeoutMs ?? 20_000,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}\n--- ${spec.name} output ---\n${this.logs()}`);
    });
    return this;
  }

  /** Sends a signal and waits for the exit (SIGKILL by default: a crash). */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGTERM and wait: a graceful stop. */
  stop(timeoutMs?: number): Promise<void> {
    return this.kill('SIGTERM', timeoutMs);
  }

  async restart(): Promise<this> {
    await this.kill('SIGKILL');
    return this.start();
  }

  /** Resolves when the process exits by itself. */
  async waitForExit(): Promise<void> {
    await this.exited;
  }

  logs(): string {
    return this.output.join('').slice(-8000);
  }
}
