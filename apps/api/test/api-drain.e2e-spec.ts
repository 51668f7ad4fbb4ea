import { waitFor } from '../../../test/process';
import { range, startApiCluster, type ApiCluster } from './api-cluster';
import type { SseClient } from './sse-client';

const SESSIONS = 20;
const STREAMS_PER_SESSION = 10;
const DRAIN_MS = 2000;

/** One reader that follows a session across nodes the way EventSource does. */
interface Follower {
  sessionId: string;
  legs: SseClient[];
}

describe('API node drain (SIGTERM)', () => {
  let cluster: ApiCluster;

  beforeAll(async () => {
    cluster = await startApiCluster({ DRAIN_MS: String(DRAIN_MS), SYNC_INTERVAL_MS: '500' });
  });
  afterAll(() => cluster.close());

  it('moves 200 open streams to the other node with their cursors and loses nothing', async () => {
    const { a, b, producer, db } = cluster;
    const ids: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const id = await cluster.createSession(1);
      await producer.activate(id);
      await producer.startTurn(id);
      ids.push(id);
    }
    const followers: Follower[] = [];
    for (const sessionId of ids) {
      for (let j = 0; j < STREAMS_PER_SESSION; j++) {
        followers.push({ sessionId, legs: [await a.stream(sessionId)] });
      }
    }
    await Promise.all(
      followers.map(({ legs: [leg] }) =>
        leg.waitFor('live on A', () => leg.control('live').length === 1),
      ),
    );
    expect(await metric(a.url, 'sessionwire_open_streams')).toBe(200);

    // Each follower reconnects to B with its last id as soon as A closes its stream.
    const moved = followers.map(async (follower) => {
      await follower.legs[0].done;
      const cursor = follower.legs[0].lastEventId ?? '0';
      follower.legs.push(await b.stream(follower.sessionId, { 'last-event-id': cursor }));
      await follower.legs[1].done;
    });

    let producing = true;
    const production = (async () => {
      while (producing) {
        for (const id of ids) await producer.deltas(id, 1);
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const stopped = a.process.stop(DRAIN_MS + 20_000);
    await waitFor(
      'readyz 503 while draining',
      async () => (await fetch(`${a.url}/readyz`)).status === 503,
      10_000,
      20,
    );
    const refused = await a.stream(ids[0]);
    expect(refused.status).toBe(503);
    expect(refused.headers?.get('retry-after')).toBe('1');
    await stopped;
    expect(a.process.exitCode).toBe(0);
    producing = false;
    await production;
    for (const id of ids) {
      await producer.completeTurn(id);
      expect((await b.request('POST', `/v1/sessions/${id}/end`)).status).toBe(202);
    }
    await Promise.all(moved);

    for (const follower of followers) {
      const [first, second] = follower.legs;
      const head = await db.store.getHeadSeq(follower.sessionId);
      const cut = Number(first.lastEventId);
      expect(first.retries.length).toBeGreaterThanOrEqual(2);
      expect(first.seqs()).toEqual(range(1, cut));
      expect(second.seqs()).toEqual(range(cut + 1, head));
      expect(second.control('end')).toHaveLength(1);
    }
    expect(followers.some((f) => Number(f.legs[0].lastEventId) > 3)).toBe(true);
  });
});

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}
