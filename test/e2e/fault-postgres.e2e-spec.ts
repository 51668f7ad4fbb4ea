import { Client } from 'pg';
import { LocalCluster } from '../cluster';
import { createTestDatabase, testRedisPrefix, testRedisUrl, type TestDatabase } from '../database';
import { sleep } from '../process';
import {
  createSessions,
  endAndVerify,
  FAULT_ENV,
  FaultClient,
  post,
  waitForTurns,
} from './fault-support';

// An API node's Postgres connections are terminated under it (a failover, an operator, a pooler
// restart) while it streams: reads fail and are retried, and no client loses or repeats an event.
describe('Fault suite: Postgres connections terminated', () => {
  let db: TestDatabase;
  let cluster: LocalCluster | undefined;
  let admin: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new Client({ connectionString: db.url, application_name: 'sessionwire-fault-test' });
    await admin.connect();
    cluster = await LocalCluster.start({
      apiNodes: 2,
      workers: 1,
      databaseUrl: db.url,
      redisUrl: testRedisUrl(),
      env: { ...FAULT_ENV, REDIS_PREFIX: testRedisPrefix(), MAX_REPLAY_GAP: '100000' },
    });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await admin?.end();
    await db?.drop();
  }, 60_000);

  it('loses and duplicates nothing while the API nodes’ backends are terminated mid-stream', async () => {
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
    let terminated = 0;
    for (let round = 0; round < 6; round++) {
      await sleep(400);
      const { rows } = await admin.query(
        `select pg_terminate_backend(pid) as ok from pg_stat_activity
         where application_name = 'sessionwire-api' and datname = $1`,
        [db.name],
      );
      terminated += rows.filter((r: { ok: boolean }) => r.ok).length;
    }
    expect(terminated).toBeGreaterThan(0);
    await waitForTurns(db, sessionIds, 1);
    await Promise.all(
      sessionIds.map((id) =>
        post(`${c.url}/v1/sessions/${id}/messages`, { content: 'still there?' }),
      ),
    );
    await waitForTurns(db, sessionIds, 2);
    await endAndVerify(c, db, sessionIds, clients);
  }, 120_000);
});
