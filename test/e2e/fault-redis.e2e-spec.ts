import { sleep } from '../process';
import {
  createSessions,
  endAndVerify,
  sendToAll,
  startClients,
  useFaultCluster,
  waitForDeltas,
  waitForLive,
  waitForTurns,
} from './fault-support';

// Redis carries hints only: losing it (a restart, a killed subscriber connection) may delay
// events but never loses or duplicates one. Each test runs its own redis-server.
describe('Fault suite: Redis', () => {
  const suite = useFaultCluster({
    apiNodes: 2,
    workers: 2,
    redis: 'private',
    env: { MAX_REPLAY_GAP: '100000' },
  });

  it('loses and duplicates nothing on 50 live streams while Redis restarts and workers produce', async () => {
    const { cluster: c, db, redis } = suite;
    const sessionIds = await createSessions(c.url, 10);
    const clients = startClients(c.url, sessionIds, 50);
    await waitForLive(clients);
    await sendToAll(c.url, sessionIds, '/stream 300 10');
    await waitForDeltas(db, sessionIds, undefined, 5);
    await redis.kill();
    await sleep(1500); // Redis stays down while the turns go on
    await redis.launch();
    await waitForTurns(db, sessionIds, 1);
    // work goes on after the restart
    await sendToAll(c.url, sessionIds, '/stream 40 5');
    await waitForTurns(db, sessionIds, 2);
    await endAndVerify(c, db, sessionIds, clients);
  });

  it("loses and duplicates nothing while the API's subscriber connections are killed repeatedly", async () => {
    const { cluster: c, db, redis } = suite;
    const sessionIds = await createSessions(c.url, 5);
    const clients = startClients(c.url, sessionIds, 20);
    await waitForLive(clients);
    await sendToAll(c.url, sessionIds, '/stream 300 10');
    let killed = 0;
    for (let round = 0; round < 8; round++) {
      await sleep(300); // one kill every 300 ms during the turns
      killed += Number(await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub'));
    }
    expect(killed).toBeGreaterThan(0);
    await waitForTurns(db, sessionIds, 1);
    await endAndVerify(c, db, sessionIds, clients);
  });
});
