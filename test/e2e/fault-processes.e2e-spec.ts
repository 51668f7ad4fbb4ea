import { sleep, waitFor } from '../process';
import {
  createSessions,
  endAndVerify,
  readLog,
  sendToAll,
  startClients,
  useFaultCluster,
  waitForDeltas,
  waitForLive,
  waitForTurns,
} from './fault-support';

// Processes die without warning: a worker mid-turn, an API node mid-stream, both at once. Clients
// reconnect through the load balancer with their Last-Event-ID and must end up with the log.
describe('Fault suite: SIGKILLed processes', () => {
  const suite = useFaultCluster({ apiNodes: 2, workers: 2, env: { MAX_REPLAY_GAP: '100000' } });

  /** Starts a long turn in every session and returns the index of the worker running session 0's. */
  async function startTurns(sessionIds: string[]): Promise<number> {
    const { cluster: c, db } = suite;
    await sendToAll(c.url, sessionIds, '/stream 400 10');
    let owner: string | null | undefined;
    await waitFor('session 0 to be running on a worker', async () => {
      const session = await db.store.getSession(sessionIds[0]);
      owner = session?.turnId ? session.owner : undefined;
      return !!owner;
    });
    await waitForDeltas(db, [sessionIds[0]], [0], 5); // well into the turn
    return c.workers.findIndex((w) => w.spec.name === owner);
  }

  async function expectWorkerLost(sessionId: string) {
    const log = await readLog(suite.db, sessionId);
    const completed = log
      .filter((e) => e.type === 'turn.completed')
      .map((e) => (e.data as { stopReason: string }).stopReason);
    expect(completed[0]).toBe('worker_lost');
  }

  it('a worker SIGKILLed mid-turn: its turn closes as worker_lost, clients lose nothing', async () => {
    const { cluster: c, db } = suite;
    const sessionIds = await createSessions(c.url, 4);
    const clients = startClients(c.url, sessionIds, 12);
    const owner = await startTurns(sessionIds);
    await c.killWorker(owner);
    await c.restartWorker(owner);
    await waitForTurns(db, sessionIds, 1);
    await expectWorkerLost(sessionIds[0]);
    await endAndVerify(c, db, sessionIds, clients);
  });

  it('an API node SIGKILLed mid-stream: clients resume on the other node without loss or duplicate', async () => {
    const { cluster: c, db } = suite;
    const sessionIds = await createSessions(c.url, 4);
    const clients = startClients(c.url, sessionIds, 12);
    await waitForLive(clients);
    await startTurns(sessionIds);
    await c.killApi(0);
    await sleep(500); // the node stays down while its clients reconnect
    await c.restartApi(0);
    await waitForTurns(db, sessionIds, 1);
    await endAndVerify(c, db, sessionIds, clients);
    expect(clients.filter((cl) => cl.connections < 2).length).toBeLessThan(clients.length);
  });

  it('an API node and a worker SIGKILLed at once', async () => {
    const { cluster: c, db } = suite;
    const sessionIds = await createSessions(c.url, 4);
    const clients = startClients(c.url, sessionIds, 12);
    await waitForLive(clients);
    const owner = await startTurns(sessionIds);
    await Promise.all([c.killApi(1), c.killWorker(owner)]);
    await sleep(500); // both stay down a moment
    await Promise.all([c.restartApi(1), c.restartWorker(owner)]);
    await waitForTurns(db, sessionIds, 1);
    await expectWorkerLost(sessionIds[0]);
    await endAndVerify(c, db, sessionIds, clients);
  });
});
