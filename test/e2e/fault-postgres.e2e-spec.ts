import { Client } from 'pg';
import { sleep } from '../process';
import {
  createSessions,
  endAndVerify,
  sendToAll,
  startClients,
  useFaultCluster,
  waitForLive,
  waitForTurns,
} from './fault-support';

// An API node's Postgres connections are terminated under it (a failover, an operator, a pooler
// restart) while it streams: reads fail and are retried, and no client loses or repeats an event.
describe('Fault suite: Postgres connections terminated', () => {
  let admin: Client | undefined;
  afterAll(async () => {
    await admin?.end();
  });
  const suite = useFaultCluster({ apiNodes: 2, workers: 1, env: { MAX_REPLAY_GAP: '100000' } });
  beforeAll(async () => {
    admin = new Client({
      connectionString: suite.db.url,
      application_name: 'sessionwire-fault-test',
    });
    await admin.connect();
  });

  it('loses and duplicates nothing while the API nodes’ backends are terminated mid-stream', async () => {
    const { cluster: c, db } = suite;
    const sessionIds = await createSessions(c.url, 5);
    const clients = startClients(c.url, sessionIds, 20);
    await waitForLive(clients);
    await sendToAll(c.url, sessionIds, '/stream 300 10');
    let terminated = 0;
    for (let round = 0; round < 6; round++) {
      await sleep(400); // one round every 400 ms during the turns
      const { rows } = await admin!.query(
        `select pg_terminate_backend(pid) as ok from pg_stat_activity
         where application_name = 'sessionwire-api' and datname = $1`,
        [db.name],
      );
      terminated += rows.filter((r: { ok: boolean }) => r.ok).length;
    }
    expect(terminated).toBeGreaterThan(0);
    await waitForTurns(db, sessionIds, 1);
    await sendToAll(c.url, sessionIds, 'still there?');
    await waitForTurns(db, sessionIds, 2);
    await endAndVerify(c, db, sessionIds, clients);
  });
});
