import { LocalCluster } from '../cluster';
import { createTestDatabase, type TestDatabase } from '../database';
import { sleep } from '../process';
import {
  createSessions,
  endAndVerify,
  FAULT_ENV,
  FaultClient,
  post,
  PrivateRedis,
  waitForTurns,
} from './fault-support';

// Redis carries hints only: losing it (a restart, a killed subscriber connection) may delay
// events but never loses or duplicates one. Each test runs its own redis-server.
describe('Fault suite: Redis', () => {
  let db: TestDatabase;
  let redis: PrivateRedis;
  let cluster: LocalCluster | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await PrivateRedis.start();
    cluster = await LocalCluster.start({
      apiNodes: 2,
      workers: 2,
      databaseUrl: db.url,
      redisUrl: redis.url,
      env: { ...FAULT_ENV, MAX_REPLAY_GAP: '100000' },
    });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await redis?.kill();
    await db?.drop();
  }, 60_000);

  it('loses and duplicates nothing on 50 live streams while Redis restarts and workers produce', async () => {
    const c = cluster!;
    const sessionIds = await createSessions(c.url, 10);
    const clients = Array.from({ length: 50 }, (_, i) =>
      new FaultClient(c.url, sessionIds[i % 10]).start(),
    );
    await sleep(500);
    await Promise.all(
      sessionIds.map((id) =>
        post(`${c.url}/v1/sessions/${id}/messages`, { content: '/stream 300 10' }),
      ),
    );
    await sleep(800);
    await redis.kill();
    await sleep(1500);
    await redis.launch();
    await waitForTurns(db, sessionIds, 1);
    // work goes on after the restart
    await Promise.all(
      sessionIds.map((id) =>
        post(`${c.url}/v1/sessions/${id}/messages`, { content: '/stream 40 5' }),
      ),
    );
    await waitForTurns(db, sessionIds, 2);
    await endAndVerify(c, db, sessionIds, clients);
  }, 120_000);

  it("loses and duplicates nothing while the API's subscriber connections are killed repeatedly", async () => {
    const c = cluster!;
    const sessionIds = await createSessions(c.url, 5);
    const clients = Array.from({ length: 20 }, (_, i) =>
      new FaultClient(c.url, sessionIds[i % 5]).start(),
    );
    await sleep(500);
    await Promise.all(
      sessionIds.map((id) =>
        post(`${c.url}/v1/sessions/${id}/messages`, { content: '/stream 300 10' }),
      ),
    );
    let killed = 0;
    for (let round = 0; round < 8; round++) {
      await sleep(300);
      killed += Number(await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub'));
    }
    expect(killed).toBeGreaterThan(0);
    await waitForTurns(db, sessionIds, 1);
    await endAndVerify(c, db, sessionIds, clients);
  }, 120_000);
});
