import { LocalCluster } from '../cluster';
import { sleep, waitFor } from '../process';
import {
  countDeltas,
  createSessions,
  post,
  sendToAll,
  startClients,
  useFaultCluster,
  waitForDeltas,
  waitForTurns,
} from './fault-support';

const SESSIONS = 5;
const CLIENTS = 20;

describe(`${LocalCluster.name} failover`, () => {
  const suite = useFaultCluster({ apiNodes: 2, workers: 2, env: { MAX_REPLAY_GAP: '100000' } });

  it('streams to 20 clients with no lost or duplicated event while API nodes die and restart', async () => {
    const { cluster: c, db } = suite;
    const sessionIds = await createSessions(c.url, SESSIONS);
    const clients = startClients(c.url, sessionIds, CLIENTS);
    await waitFor('every client to connect', () => clients.every((cl) => cl.connections > 0));
    const before = c.balancer.served.get(c.apiUrls[0]) ?? 0;
    expect(before).toBeGreaterThan(0);

    const say = (content: string) => sendToAll(c.url, sessionIds, content);
    await say('/stream 80 10');
    await waitForDeltas(db, sessionIds);
    await c.killApi(0); // a crash in the middle of the turns
    await say('/stream 40 10');
    await sleep(500); // node 0 stays down while the turns go on
    await c.restartApi(0);
    const since = await countDeltas(db, sessionIds);
    await say('/stream 40 10');
    await waitForDeltas(db, sessionIds, since);
    await c.killApi(1, 'SIGTERM'); // a graceful drain
    await c.restartApi(1);
    await say('after the restarts');

    await waitForTurns(db, sessionIds, 4);
    for (const id of sessionIds) await post(`${c.url}/v1/sessions/${id}/end`, {});
    await Promise.all(clients.map((cl) => cl.finished(30_000)));
    expect(clients.filter((cl) => !cl.ended).map((cl) => cl.interruptions)).toEqual([]);

    for (const client of clients) {
      const log = await db.store.getEventsAfter(client.sessionId, 0, 10_000);
      expect(log.at(-1)?.type).toBe('session.state');
      expect({ session: client.sessionId, seqs: client.events.map((e) => e.seq) }).toEqual({
        session: client.sessionId,
        seqs: log.map((e) => e.seq),
      });
      expect(client.gaps).toEqual([]);
      expect(client.violations).toEqual([]);
    }
    // Every client sat on node 0 when it crashed or on node 1 when it drained.
    expect(clients.filter((cl) => cl.connections < 2)).toEqual([]);
    const turns = await db.store.getEventsAfter(sessionIds[0], 0, 10_000);
    expect(turns.filter((e) => e.type === 'message.delta').length).toBeGreaterThan(4);
  }, 180_000);
});
