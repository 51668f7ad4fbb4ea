import { sessionChannel } from '../../libs/transport/src/server/broker';
import type { TestDatabase } from '../database';
import { sleep, waitFor } from '../process';
import {
  createSessions,
  endAndVerify,
  FaultClient,
  post,
  readLog,
  useFaultCluster,
  waitForTurns,
} from './fault-support';

const OUTAGE_MS = Number(process.env.REDIS_OUTAGE_MS ?? 30_000);

async function metric(node: string, name: string): Promise<number> {
  const text = await (await fetch(`${node}/metrics`)).text();
  // `name value` or `name{labels} value`
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return Number(line?.split(' ').at(-1) ?? NaN);
}

/** True once every client holds every event of its session's log. */
async function delivered(db: TestDatabase, clients: FaultClient[]): Promise<boolean> {
  for (const client of clients) {
    const log = await readLog(db, client.sessionId);
    if (client.events.at(-1)?.seq !== log.at(-1)?.seq) return false;
  }
  return true;
}

// Redis away for half a minute: live delivery goes on through the periodic sync, readiness says
// so, messages are still taken, and when Redis returns every node resubscribes by itself.
describe('Fault suite: Redis down for a long time', () => {
  const suite = useFaultCluster({
    apiNodes: 2,
    workers: 2,
    redis: 'private',
    env: { MAX_REPLAY_GAP: '100000' },
  });

  it(
    `streams through a ${OUTAGE_MS / 1000} s Redis outage and resubscribes with no restart`,
    async () => {
      const c = suite.cluster;
      const sessionIds = await createSessions(c.url, 4);
      const clients = Array.from({ length: 12 }, (_, i) =>
        new FaultClient(c.url, sessionIds[i % 4]).start(),
      );
      await waitFor('clients connected', () => clients.every((cl) => cl.connections > 0), 10_000);
      const resubscribesBefore = await Promise.all(
        c.apiUrls.map((url) => metric(url, 'sessionwire_broker_resubscribes_total')),
      );
      for (const id of sessionIds) {
        await post(`${c.url}/v1/sessions/${id}/messages`, { content: '/stream 100 20' });
      }
      await sleep(500);
      await suite.redis.kill();
      const downAt = Date.now();
      for (const url of c.apiUrls) {
        await waitFor(
          `${url} not ready`,
          async () => (await fetch(`${url}/readyz`)).status === 503,
          10_000,
          100,
        );
      }
      // While Redis is down: messages are taken, workers answer them, streams deliver them,
      // also a stream opened for a session created during the outage.
      const [late] = await createSessions(c.url, 1);
      const lateClient = new FaultClient(c.url, late).start();
      clients.push(lateClient);
      for (const id of [...sessionIds, late]) {
        await post(`${c.url}/v1/sessions/${id}/messages`, { content: '/stream 20 5' });
      }
      await waitForTurns(suite.db, sessionIds, 2, OUTAGE_MS);
      await waitForTurns(suite.db, [late], 1, OUTAGE_MS);
      await waitFor(
        'delivery during the outage',
        () => delivered(suite.db, clients),
        OUTAGE_MS,
        250,
      );
      const deliveredWithinMs = Date.now() - downAt;
      expect(Date.now() - downAt).toBeLessThan(OUTAGE_MS);
      for (const url of c.apiUrls) expect((await fetch(`${url}/readyz`)).status).toBe(503);
      // The message limit went on counting on each node alone (it fails open to a per-node limit).
      const fallbacks = await Promise.all(
        c.apiUrls.map((url) => metric(url, 'sessionwire_rate_limit_local_fallbacks_total')),
      );
      expect(fallbacks.reduce((a, b) => a + b, 0)).toBe(sessionIds.length + 1);
      await sleep(OUTAGE_MS - (Date.now() - downAt));
      await suite.redis.launch();
      const upAt = Date.now();
      for (const url of c.apiUrls) {
        await waitFor(`${url} ready`, async () => (await fetch(`${url}/readyz`)).ok, 20_000, 100);
      }
      const readyAfterMs = Date.now() - upAt;
      for (const [i, url] of c.apiUrls.entries()) {
        expect(await metric(url, 'sessionwire_broker_resubscribes_total')).toBeGreaterThan(
          resubscribesBefore[i],
        );
      }
      // The channel first subscribed while Redis was down is live upstream now.
      await waitFor(
        'the late session channel subscribed',
        async () =>
          Number(
            (await suite.redis.cli('PUBSUB', 'NUMSUB', sessionChannel(late))).split('\n')[1],
          ) >= 1,
        10_000,
        100,
      );
      for (const id of [...sessionIds, late]) {
        await post(`${c.url}/v1/sessions/${id}/messages`, { content: '/stream 10 5' });
      }
      await waitForTurns(suite.db, sessionIds, 3);
      await endAndVerify(c, suite.db, [...sessionIds, late], clients);
      process.stdout.write(
        `redis outage: delivered during the outage ${deliveredWithinMs} ms after it began; nodes ready ${readyAfterMs} ms after Redis returned\n`,
      );
    },
    OUTAGE_MS + 120_000,
  );
});
