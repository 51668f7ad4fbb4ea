import { randomUUID } from 'node:crypto';
import type { StoredEvent } from '@sessionwire/transport/protocol';
import { RedisBroker } from '@sessionwire/transport/server';
import { postAsApi } from '../api-side';
import { createTestDatabase, testRedisPrefix, testRedisUrl, type TestDatabase } from '../database';
import { freePort, ManagedProcess, waitFor } from '../process';
import { workerProcess } from './worker-processes';

const LEASE_MS = 2000;

describe('worker processes', () => {
  let db: TestDatabase;
  let api: RedisBroker;
  const prefix = testRedisPrefix();
  const processes: ManagedProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    api = new RedisBroker({ url: testRedisUrl(), prefix });
  });
  // Each test has the workers it starts to itself.
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await api.close();
    await db.drop();
  });

  async function startWorker(name: string, env: Record<string, string> = {}) {
    const worker = workerProcess(db, prefix, name, { LEASE_MS: String(LEASE_MS), ...env });
    processes.push(worker);
    return worker.start();
  }

  async function createSession() {
    return (await db.store.createSession({ id: randomUUID(), agent: 'demo' })).id;
  }

  const send = (sessionId: string, content: string) => postAsApi(db.store, api, sessionId, content);

  const events = (id: string) => db.store.getEventsAfter(id, 0, 10_000);
  const of = (list: StoredEvent[], type: StoredEvent['type']) =>
    list.filter((e) => e.type === type);

  async function waitForEvents(id: string, what: string, check: (list: StoredEvent[]) => boolean) {
    let last: StoredEvent[] = [];
    await waitFor(what, async () => check((last = await events(id))), 30_000, 50);
    return last;
  }

  it('closes the turn of a SIGKILLed worker as worker_lost and answers the next message once', async () => {
    const a = await startWorker('worker-a');
    const id = await createSession();
    await send(id, '/sleep 3000');
    const started = of(
      await waitForEvents(id, 'turn.started', (l) => of(l, 'turn.started').length === 1),
      'turn.started',
    )[0];
    const lostTurn = (started.data as { turnId: string }).turnId;
    const nextSeq = await send(id, 'after the crash');
    await a.kill('SIGKILL');
    const killedAt = Date.now();
    await startWorker('worker-b');
    const log = await waitForEvents(
      id,
      'two closed turns',
      (l) => of(l, 'turn.completed').length >= 2,
    );
    process.stdout.write(`SIGKILL → next message answered after ${Date.now() - killedAt} ms\n`);
    expect(of(log, 'turn.completed').map((e) => e.data)).toEqual([
      { turnId: lostTurn, stopReason: 'worker_lost' },
      expect.objectContaining({ stopReason: 'end_turn' }),
    ]);
    expect(of(log, 'turn.started').map((e) => (e.data as { inputSeq: number }).inputSeq)).toEqual([
      (started.data as { inputSeq: number }).inputSeq,
      nextSeq,
    ]);
    expect(of(log, 'message.completed').map((e) => (e.data as { text: string }).text)).toEqual([
      'You said: after the crash',
    ]);
    const states = of(log, 'session.state').map((e) => (e.data as { to: string }).to);
    expect(states).toEqual(['CREATED', 'STARTING', 'ACTIVE', 'DETACHED', 'STARTING', 'ACTIVE']);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
  });

  it('drains on SIGTERM: finishes a short turn, interrupts a long one, releases, exits 0', async () => {
    const metricsPort = await freePort();
    const c = await startWorker('worker-c', {
      WORKER_DRAIN_MS: '1500',
      METRICS_PORT: String(metricsPort),
    });
    const [short, long] = [await createSession(), await createSession()];
    await send(short, '/sleep 700');
    await send(long, '/sleep 30000');
    for (const id of [short, long]) {
      await waitForEvents(id, 'turn.started', (l) => of(l, 'turn.started').length === 1);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^sessionwire_worker_turns_running 2$/m);
    expect(metrics).toMatch(/^sessionwire_worker_leases_claimed_total [1-9]/m);
    const stoppedAt = Date.now();
    await c.stop();
    const took = Date.now() - stoppedAt;
    process.stdout.write(`SIGTERM drain took ${took} ms\n`);
    expect(c.exitCode).toBe(0);
    expect(took).toBeLessThan(10_000);
    expect(of(await events(short), 'turn.completed').map((e) => e.data)).toEqual([
      expect.objectContaining({ stopReason: 'end_turn' }),
    ]);
    expect(of(await events(long), 'turn.completed').map((e) => e.data)).toEqual([
      expect.objectContaining({ stopReason: 'interrupted' }),
    ]);
    for (const id of [short, long]) {
      expect(await db.store.requireSession(id)).toMatchObject({ state: 'SUSPENDED', owner: null });
    }
  });
});
