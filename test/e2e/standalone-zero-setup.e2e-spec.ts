import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createParser } from 'eventsource-parser';
import { freePort, waitFor } from '../process';

const ENTRY = resolve(__dirname, '../../dist/apps/standalone/main.js');

interface Frame {
  id?: string;
  event?: string;
  data: string;
}

/** `npm start` as a user runs it: the built entry in a directory of its own, no service URLs. */
class Standalone {
  child?: ChildProcess;
  output = '';

  constructor(
    readonly cwd: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(this.port), DRAIN_MS: '300' };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'API_KEYS', 'AUTH_SECRET', 'NODE_ENV']) {
      delete env[name];
    }
    this.output = '';
    const child = spawn(process.execPath, [ENTRY], { cwd: this.cwd, env, stdio: 'pipe' });
    this.child = child;
    child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
    await waitFor(
      'the standalone process to print its banner',
      () => {
        if (child.exitCode !== null) throw new Error(`exited early:\n${this.output}`);
        return this.output.includes('Create a session');
      },
      60_000,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}\n${this.output}`);
    });
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

async function json(url: string, init?: RequestInit): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...init?.headers },
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${url} → ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Reads the stream until `until` matches a frame, then disconnects. */
async function readStream(url: string, until: (frame: Frame) => boolean): Promise<Frame[]> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  expect(response.status).toBe(200);
  const frames: Frame[] = [];
  let done = false;
  const parser = createParser({
    onEvent: (m) => {
      frames.push({ id: m.id, event: m.event, data: m.data });
      if (until(frames.at(-1)!)) done = true;
    },
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  while (!done) {
    const { value, done: closed } = await reader.read();
    if (closed) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  controller.abort();
  return frames;
}

describe('npm start (standalone, nothing installed)', () => {
  let cwd: string;
  let app: Standalone;

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'sessionwire-standalone-'));
    app = new Standalone(cwd, await freePort());
  });

  afterAll(async () => {
    if (app.child && app.child.exitCode === null) await app.stop();
    rmSync(cwd, { recursive: true, force: true });
  }, 30_000);

  it('answers from an empty directory, streams the reply, and keeps history across a restart', async () => {
    await app.start();
    expect(app.output).toContain('embedded Postgres (PGlite) in ./.data, in-process bus');
    expect(app.output).toContain(`http://localhost:${app.port}/docs`);
    expect(app.output).toMatch(/curl -s -X POST http:\/\/localhost:\d+\/v1\/sessions/);
    // PGlite ran the committed migrations (found next to the bundle, not in this cwd).
    expect(readFileSync(join(cwd, '.data', 'PG_VERSION'), 'utf8').trim()).toBe('18');

    const session = await json(`${app.url}/v1/sessions`, { method: 'POST', body: '{}' });
    const id = session.id as string;
    expect(session.state).toBe('CREATED');
    const accepted = await json(`${app.url}/v1/sessions/${id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ clientMessageId: 'hello-1', content: 'hello standalone' }),
    });
    expect(accepted.seq).toBe(2);

    const frames = await readStream(
      `${app.url}/v1/sessions/${id}/stream`,
      (f) => f.event === 'turn.completed',
    );
    const stored = frames.filter((f) => f.id !== undefined);
    expect(stored.map((f) => Number(f.id))).toEqual(stored.map((_, i) => i + 1));
    const completed = frames.find((f) => f.event === 'message.completed');
    expect(JSON.parse(completed!.data).data.text).toBe('You said: hello standalone');
    const before = await json(`${app.url}/v1/sessions/${id}/events?after=0`);

    expect(await app.stop()).toBe(0);
    await app.start();

    // Everything written before the stop is still there; the drain only added the release.
    const after = (await json(`${app.url}/v1/sessions/${id}/events?after=0`)).events as {
      type: string;
      data: { to?: string };
    }[];
    const earlier = before.events as unknown[];
    expect(after.slice(0, earlier.length)).toEqual(earlier);
    expect(after.slice(earlier.length).map((e) => `${e.type}:${e.data.to}`)).toEqual([
      'session.state:SUSPENDED',
    ]);
    const duplicate = await json(`${app.url}/v1/sessions/${id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ clientMessageId: 'hello-1', content: 'hello standalone' }),
    });
    expect(duplicate).toMatchObject({ seq: 2, duplicate: true });
    expect(await app.stop()).toBe(0);
  }, 120_000);
});
