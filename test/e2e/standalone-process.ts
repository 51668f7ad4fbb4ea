import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { waitFor } from '../process';
import { readSseBody, SseDecoder } from '../sse';

const ENTRY = resolve(__dirname, '../../dist/apps/standalone/main.js');

export interface Frame {
  id?: string;
  event?: string;
  data: string;
}

/** `npm start` as a user runs it: the built entry in a directory of its own, no service URLs. */
export class Standalone {
  child?: ChildProcess;
  /** stdout and stderr, interleaved as they came. */
  output = '';
  stderr = '';

  constructor(
    readonly cwd: string,
    readonly port: number,
    /** Variables on top of the cleared environment (no service URLs, no auth by default). */
    readonly env: Record<string, string> = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(this.port), DRAIN_MS: '300' };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'API_KEYS', 'AUTH_SECRET', 'NODE_ENV']) {
      delete env[name];
    }
    Object.assign(env, this.env);
    this.output = '';
    this.stderr = '';
    const child = spawn(process.execPath, [ENTRY], { cwd: this.cwd, env, stdio: 'pipe' });
    this.child = child;
    child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => {
      this.output += c.toString();
      this.stderr += c.toString();
    });
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    await waitFor(
      'the standalone process to print its banner',
      () => exited() || this.output.includes('Create a session'),
      60_000,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}\n${this.output}`);
    });
    if (exited()) throw new Error(`exited early (${child.exitCode}):\n${this.output}`);
  }

  /** Starts a process that must refuse to run; resolves with its exit code. */
  async startExpectingExit(): Promise<number | null> {
    const refused = await this.start().then(
      () => false,
      () => true,
    );
    if (!refused) throw new Error(`started although it should have refused:\n${this.output}`);
    const child = this.child!;
    if (child.exitCode === null) await once(child, 'exit');
    return child.exitCode;
  }

  /** SIGTERM, as Ctrl-C or a process manager does; resolves with the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child!;
    if (child.exitCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    return code;
  }
}

export async function json(url: string, init?: RequestInit): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...init?.headers },
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${url} → ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Reads the stream until `until` matches a frame, then disconnects. */
export async function readStream(url: string, until: (frame: Frame) => boolean): Promise<Frame[]> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  expect(response.status).toBe(200);
  const frames: Frame[] = [];
  let done = false;
  const decoder = new SseDecoder({
    onMessage: (m) => {
      frames.push({ id: m.id, event: m.event, data: m.data });
      if (until(frames.at(-1)!)) done = true;
    },
  });
  await readSseBody(response.body!, decoder, () => done);
  controller.abort();
  return frames;
}
