import { LocalCluster } from '../cluster';
import { createTestDatabase, testRedisPrefix, testRedisUrl, type TestDatabase } from '../database';
import { sleep, waitFor } from '../process';
import {
  createSessions,
  endAndVerify,
  FAULT_ENV,
  FaultClient,
  post,
  readLog,
  waitForTurns,
} from './fault-support';

// Processes die without warning: a worker mid-turn, an API node mid-stream, both at once. Clients
// reconnect through the load balancer with their Last-Event-ID and must end up with the log.
describe('Fault suite: SIGKILLed processes', () => {
  let db: TestDatabase;
  let cluster: LocalCluster | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    cluster = await LocalCluster.start({
      apiNodes: 2,
      workers: 2,
      databaseUrl: db.url,
      redisUrl: testRedisUrl(),
      env: { ...FAULT_ENV, REDIS_PREFIX: testRedisPrefix(), MAX_REPLAY_GAP: '100000' },
    });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
  }, 60_000);

  /** Starts a long turn in every session and returns the index of the worker running session 0's. */
  async function startTurns(sessionIds: string[]): Promise<number> {
    const c = cluster!;
    await Promise.all(
      sessionIds.map((id) =>
        post(`${c.url}/v1/sessions/${id}/messages`, { content: '/stream 400 10' }),
      ),
    );
    let owner: string | null | undefined;
    await waitFor('session 0 to be running on a worker', async () => {
      const session = await db.store.getSession(sessionIds[0]);
      owner = session?.turnId ? session.owner : undefined;
      return !!owner;
    });
    await sleep(500); // well into the turn
    return c.workers.findIndex((w) => w.spec.name === owner);
  }

  async function expectWorkerLost(sessionId: string) {
    const log = await readLog(db, sessionId);
    const completed = log
      .filter((e) => e.type === 'turn.completed')
      .map((e) => (e.data as { stopReason: string }).stopReason);
    expect(completed[0]).toBe('worker_lost');
  }

  it('a worker SIGKILLed mid-turn: its turn closes as worker_lost, clients lose nothing', async () => {
    const c = cluster!;
    const sessionIds = await createSessions(c.url, 4);
    const clients = Array.from({ length: 12 }, (_, i) =>
      new FaultClient(c.url, sessionIds[i % 4]).start(),
    );
    const owner = await startTurns(sessionIds);
    await c.killWorker(owner);
    await c.restartWorker(owner);
    await waitForTurns(db, sessionIds, 1);
    await expectWorkerLost(sessionIds[0]);
    await endAndVerify(c, db, sessionIds, clients);
  }, 120_000);

  it('an API node SIGKILLed mid-stream: clients resume on the other node without loss or duplicate', async () => {
    const c = cluster!;
    const sessionIds = await createSessions(c.url, 4);
    const clients = Array.from({ length: 12 }, (_, i) =>
      new FaultClient(c.url, sessionIds[i % 4]).start(),
    );
    await startTurns(sessionIds);
    await c.killApi(0);
    await sleep(500);
    await c.restartApi(0);
    await waitForTurns(db, sessionIds, 1);
    await endAndVerify(c, db, sessionIds, clients);
    expect(clients.filter((cl) => cl.connections < 2).length).toBeLessThan(clients.length);
  }, 120_000);

  it('an API node and a worker SIGKILLed at once', async () => {
    const c = cluster!;
    const sessionIds = await createSessions(c.url, 4);
    const clients = Array.from({ length: 12 }, (_, i) =>
      new FaultClient(c.url, sessionIds[i % 4]).start(),
    );
    const owner = await startTurns(sessionIds);
    await Promise.all([c.killApi(1), c.killWorker(owner)]);
    await sleep(500);
    await Promise.all([c.restartApi(1), c.restartWorker(owner)]);
    await waitForTurns(db, sessionIds, 1);
    await expectWorkerLost(sessionIds[0]);
    await endAndVerify(c, db, sessionIds, clients);
  }, 120_000);
});
