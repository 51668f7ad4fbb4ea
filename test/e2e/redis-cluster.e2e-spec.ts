import calculateSlot from 'cluster-key-slot';
import { sessionChannel } from '../../libs/transport/src/server/broker';
import { sleep, waitFor } from '../process';
import {
  createSessions,
  endAndVerify,
  FaultClient,
  sendToAll,
  useFaultCluster,
  waitForDeltas,
  waitForTurns,
} from './fault-support';

const PREFIX = 'swe2e:';
const SESSIONS = 50;

/** A Prometheus sample of an API node, summed over its labels. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

// Two API nodes and two workers on REDIS_CLUSTER_NODES (a private 3-master, 3-replica cluster):
// sharded pub/sub must lose and duplicate nothing while a live session's slot moves to another
// master and a master is SIGKILLed (its replica promoted), both in the middle of turns.
describe('Redis Cluster end to end', () => {
  const suite = useFaultCluster({
    apiNodes: 2,
    workers: 2,
    redis: 'cluster',
    env: {
      MAX_REPLAY_GAP: '100000',
      // hints carry the events; the periodic sync is only the safety net
      SYNC_INTERVAL_MS: '1000',
      REDIS_PREFIX: PREFIX,
      // hints are the fast path; the poll only repairs what a failover lost
      WORKER_POLL_MS: '2000',
    },
  });

  it('streams 50 sessions across nodes, exactly once, through a slot migration and a master failover mid-turn', async () => {
    const { cluster: c, db, redisCluster: redis } = suite;
    const sessionIds = await createSessions(c.url, SESSIONS);
    // two clients per session, one on each API node
    const clients = sessionIds.flatMap((id) =>
      c.apiUrls.map((url) => new FaultClient(url, id).start()),
    );
    await waitFor(
      'every client to connect',
      () => clients.every((cl) => cl.connections > 0),
      30_000,
    );
    for (const url of c.apiUrls) {
      const ready = await (await fetch(`${url}/readyz`)).json();
      expect(ready).toEqual({ status: 'ready', redisCluster: { state: 'ok', masters: 3 } });
      expect(await metric(url, 'sessionwire_broker_resubscribes_total')).toBe(0);
    }

    const say = (content: string) => sendToAll(c.url, sessionIds, content);
    await say('/stream 300 10');
    await waitForDeltas(db, sessionIds, undefined, 5);
    // move the slot of a session that is streaming right now
    const moved = calculateSlot(PREFIX + sessionChannel(sessionIds[0]));
    const from = await redis.masterOf(moved);
    const to = await redis.migrateSlot(moved);
    expect(to.port).not.toBe(from.port);
    await sleep(700); // the turns go on through the moved slot for a while
    // and kill the master of another streaming session
    const victim = sessionIds.find((id) => calculateSlot(PREFIX + sessionChannel(id)) !== moved)!;
    const { killed, promoted } = await redis.killMasterOf(
      calculateSlot(PREFIX + sessionChannel(victim)),
    );
    expect(promoted.port).not.toBe(killed.port);
    await waitForTurns(db, sessionIds, 1, 90_000);

    // after both faults: new turns, hints on the moved slot and on the promoted master
    await say('/stream 40 5');
    await waitForTurns(db, sessionIds, 2, 60_000);
    await endAndVerify(c, db, sessionIds, clients);

    for (const url of c.apiUrls) {
      // the faults show in the metrics: subscriptions restored, errors counted, cluster whole again
      expect(await metric(url, 'sessionwire_broker_resubscribes_total')).toBeGreaterThanOrEqual(1);
      expect(await metric(url, 'sessionwire_broker_errors_total')).toBeGreaterThan(0);
      await waitFor(`${url} sees the cluster whole`, async () => {
        return (
          (await metric(url, 'sessionwire_broker_cluster_state_ok')) === 1 &&
          (await metric(url, 'sessionwire_broker_cluster_masters')) === 3
        );
      });
    }
  }, 300_000);
});
