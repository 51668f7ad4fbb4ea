import type { StoredEvent } from '@sessionwire/transport/protocol';
import { createTestDatabase, testRedisPrefix, testRedisUrl, type TestDatabase } from '../database';
import { freePort, ManagedProcess } from '../process';
import { readSseBody, SseDecoder } from '../sse';

/** Reads a session's SSE stream through a real API process until `done` says so. */
async function readStream(
  url: string,
  done: (events: StoredEvent[]) => boolean,
  onOpen: () => Promise<void>,
): Promise<StoredEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('stream read timed out')), 30_000);
  const events: StoredEvent[] = [];
  try {
    const response = await fetch(url, { signal: controller.signal });
    expect(response.status).toBe(200);
    let finished = false;
    const decoder = new SseDecoder({
      onMessage: (frame) => {
        if (frame.id === undefined || finished) return;
        events.push(JSON.parse(frame.data) as StoredEvent);
        if (done(events)) finished = true;
      },
    });
    await onOpen();
    await readSseBody(response.body!, decoder, () => finished);
    return events;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

describe('API and worker processes', () => {
  let db: TestDatabase;
  let base: string;
  const processes: ManagedProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const common = {
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: testRedisPrefix(),
    };
    processes.push(
      new ManagedProcess({
        name: 'api',
        entry: 'dist/apps/api/main.js',
        env: { ...common, PORT: String(port) },
        readyUrl: `${base}/healthz`,
      }),
      new ManagedProcess({
        name: 'worker',
        entry: 'dist/apps/worker/main.js',
        env: { ...common, WORKER_ID: 'stream-worker', LOG_LEVEL: 'info' },
        readyLine: /worker \S+ ready/,
      }),
    );
    await Promise.all(processes.map((p) => p.start()));
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await db.drop();
  });

  const post = async (path: string, body: unknown = {}) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBeLessThan(300);
    return (await response.json()) as Record<string, unknown>;
  };

  it('streams message.user, turn.started, deltas, message.completed, turn.completed in order', async () => {
    const session = await post('/v1/sessions', { agent: 'demo' });
    const content = 'hello from the stream test, with enough words for several chunks';
    const events = await readStream(
      `${base}/v1/sessions/${session.id as string}/stream`,
      (list) => list.some((e) => e.type === 'turn.completed'),
      async () => {
        await post(`/v1/sessions/${session.id as string}/messages`, { content });
      },
    );
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const turn = events.filter((e) => e.type !== 'session.state');
    const kinds = turn.map((e) => e.type);
    expect(kinds[0]).toBe('message.user');
    expect(kinds[1]).toBe('turn.started');
    expect(kinds.slice(-2)).toEqual(['message.completed', 'turn.completed']);
    const deltas = turn.slice(2, -2);
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.every((e) => e.type === 'message.delta')).toBe(true);
    const text = deltas.map((e) => (e.data as { text: string }).text).join('');
    expect(text).toBe(`You said: ${content}`);
    expect(turn.at(-2)!.data).toMatchObject({ text });
    expect(turn.at(-1)!.data).toMatchObject({ stopReason: 'end_turn' });
  });

  it('interrupts a running turn through the API within a second', async () => {
    const session = await post('/v1/sessions', { agent: 'demo' });
    const id = session.id as string;
    let interruptedAt = 0;
    const events = await readStream(
      `${base}/v1/sessions/${id}/stream`,
      (list) => {
        if (!interruptedAt && list.some((e) => e.type === 'turn.started')) {
          interruptedAt = performance.now();
          void post(`/v1/sessions/${id}/interrupt`);
        }
        return list.some((e) => e.type === 'turn.completed');
      },
      async () => {
        await post(`/v1/sessions/${id}/messages`, { content: '/sleep 10000' });
      },
    );
    const elapsed = performance.now() - interruptedAt;
    process.stdout.write(
      `API interrupt → turn.completed on the stream: ${elapsed.toFixed(0)} ms\n`,
    );
    expect(events.at(-1)!.data).toMatchObject({ stopReason: 'interrupted' });
    expect(events.map((e) => e.type)).toContain('interrupt.requested');
    expect(elapsed).toBeLessThan(1000);
  });
});
