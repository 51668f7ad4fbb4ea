import { LocalCluster } from '../cluster';
import { createTestDatabase, testRedisPrefix, testRedisUrl, type TestDatabase } from '../database';
import { sleep } from '../process';
import {
  createSessions,
  endAndVerify,
  FAULT_ENV,
  FaultClient,
  post,
  readLog,
  waitForTurns,
} from './fault-support';

// Clients that drop their connection at random points (mid-frame included) every 200 ms or less
// during a 5,000-token turn, resuming with Last-Event-ID each time, on the default replay cap.
describe('Fault suite: reconnect churn', () => {
  let db: TestDatabase;
  let cluster: LocalCluster | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    cluster = await LocalCluster.start({
      apiNodes: 2,
      workers: 1,
      databaseUrl: db.url,
      redisUrl: testRedisUrl(),
      env: { ...FAULT_ENV, REDIS_PREFIX: testRedisPrefix() },
    });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
  }, 60_000);

  it('a client reconnecting every 200 ms during a 5,000-token turn receives the log exactly once', async () => {
    const c = cluster!;
    const [sessionId] = await createSessions(c.url, 1);
    const churners = Array.from({ length: 3 }, () =>
      new FaultClient(c.url, sessionId, { churnMs: 200 }).start(),
    );
    const steady = new FaultClient(c.url, sessionId).start();
    await sleep(300);
    await post(`${c.url}/v1/sessions/${sessionId}/messages`, { content: '/stream 5000 1' });
    await waitForTurns(db, [sessionId], 1, 90_000);
    await endAndVerify(c, db, [sessionId], [...churners, steady]);

    const log = await readLog(db, sessionId);
    const text = log
      .filter((e) => e.type === 'message.delta')
      .map((e) => (e.data as { text: string }).text)
      .join('');
    expect(text).toBe(Array.from({ length: 5000 }, (_, i) => `t${i} `).join(''));
    for (const churner of churners) expect(churner.connections).toBeGreaterThan(10);
  }, 150_000);
});
