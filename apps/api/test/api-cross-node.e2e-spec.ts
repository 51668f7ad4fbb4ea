import { range, startApiCluster, type ApiCluster } from './api-cluster';
import type { SseClient } from './sse-client';

const SYNC_INTERVAL_MS = 400;

describe('API nodes (two processes)', () => {
  let cluster: ApiCluster;
  const clients: SseClient[] = [];
  const track = (client: SseClient) => {
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    cluster = await startApiCluster({ SYNC_INTERVAL_MS: String(SYNC_INTERVAL_MS) });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.abort();
  });
  afterAll(() => cluster.close());

  const head = (id: string) => cluster.db.store.getHeadSeq(id);

  it('streams on node A what is posted on node B; resumes on B after a cut with no loss or duplicate', async () => {
    const { a, b, producer } = cluster;
    const id = await cluster.createSession(1);
    const onA = track(await a.stream(id));
    await onA.waitFor('live on A', () => onA.control('live').length === 1);
    await producer.activate(id);
    await producer.startTurn(id);
    for (let i = 0; i < 5; i++) {
      const res = await b.request('POST', `/v1/sessions/${id}/messages`, {
        body: { content: `from b ${i}` },
      });
      expect(res.status).toBe(202);
    }
    await producer.deltas(id, 20);
    await onA.waitFor('A to get 10 events', () => onA.seqs().length >= 10);
    onA.abort();
    await onA.done;
    const cut = Number(onA.lastEventId);
    await producer.deltas(id, 20);
    const onB = track(await b.stream(id, { 'last-event-id': String(cut) }, '?after=0'));
    await producer.deltas(id, 10);
    await producer.completeTurn(id);
    expect((await b.request('POST', `/v1/sessions/${id}/end`)).status).toBe(202);
    await onB.done;

    const log = (await cluster.db.store.getEventsAfter(id, 0, 10_000)).map((e) => e.seq);
    expect(onA.seqs()).toEqual(range(1, cut));
    expect(onB.seqs()).toEqual(range(cut + 1, await head(id)));
    expect([...onA.seqs(), ...onB.seqs()]).toEqual(log);
    expect(onB.control('end')).toEqual([{ sessionId: id, headSeq: await head(id) }]);
    const users = onA.events().filter((e) => e.type === 'message.user').length;
    expect(users).toBe(6);
  });

  it('resumes 150 behind: 150 events replayed, then live, then new events', async () => {
    const { b, producer } = cluster;
    const id = await cluster.createSession(1);
    await producer.activate(id);
    await producer.startTurn(id);
    await producer.bulkDeltas(id, 300);
    const h = await head(id);
    const client = track(await b.stream(id, { 'last-event-id': String(h - 150) }));
    await client.waitFor('live', () => client.control('live').length === 1);
    expect(client.seqs()).toEqual(range(h - 149, h));
    expect(client.frames.findIndex((f) => f.event === 'live')).toBe(150);
    expect(client.control('gap')).toEqual([]);
    await producer.deltas(id, 3);
    await client.waitFor('3 live events', () => client.seqs().length === 153);
    expect(client.seqs()).toEqual(range(h - 149, h + 3));
  });

  it('resumes 5,000 behind with one gap frame and no replay, then live events', async () => {
    const { a, producer } = cluster;
    const id = await cluster.createSession(1);
    await producer.activate(id);
    await producer.startTurn(id);
    await producer.bulkDeltas(id, 5100);
    const h = await head(id);
    const cursor = h - 5000;
    const client = track(await a.stream(id, {}, `?after=${cursor}`));
    await client.waitFor('live', () => client.control('live').length === 1);
    expect(client.seqs()).toEqual([]);
    const gaps = client.frames.filter((f) => f.event === 'gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0].id).toBe(String(h));
    expect(JSON.parse(gaps[0].data)).toMatchObject({
      sessionId: id,
      reason: 'replay_gap_exceeded',
      fromSeq: cursor + 1,
      toSeq: h,
      headSeq: h,
      state: 'ACTIVE',
      activity: 'running',
      historyUrl: expect.stringContaining(`/v1/sessions/${id}/events?after=${cursor}`),
    });
    await producer.deltas(id, 2);
    await client.waitFor('live events', () => client.seqs().length === 2);
    expect(client.seqs()).toEqual([h + 1, h + 2]);
  });

  it('answers a cursor ahead of head with cursor_ahead, then goes live', async () => {
    const { b, producer } = cluster;
    const id = await cluster.createSession(1);
    const h = await head(id);
    const client = track(await b.stream(id, { 'last-event-id': String(h + 50) }));
    await client.waitFor('live', () => client.control('live').length === 1);
    expect(client.control('gap')).toEqual([
      expect.objectContaining({ reason: 'cursor_ahead', fromSeq: 1, toSeq: h, headSeq: h }),
    ]);
    expect(client.control('gap')[0]).toMatchObject({
      historyUrl: expect.stringContaining('after=0'),
    });
    await producer.activate(id);
    await client.waitFor('live events', () => client.seqs().length === 2);
    expect(client.seqs()).toEqual([h + 1, h + 2]);
  });

  it('delivers appends whose hints were lost, in order, by the periodic sync', async () => {
    const { a, producer } = cluster;
    const id = await cluster.createSession(1);
    const client = track(await a.stream(id));
    await client.waitFor('live', () => client.control('live').length === 1);
    await producer.activate(id);
    await producer.startTurn(id);
    await producer.deltas(id, 3);
    await producer.deltas(id, 5, false);
    await producer.bulkDeltas(id, 4, false);
    const h = await head(id);
    await client.waitFor('every event without hints', () => client.seqs().length === h, 20_000);
    expect(client.seqs()).toEqual(range(1, h));
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/^sessionwire_sync_catchups_total [1-9]\d*$/m);
  });

  it('delivers the last events and `end` of a session ended while every hint was lost', async () => {
    const { b, producer, db } = cluster;
    const id = await cluster.createSession(1);
    await producer.activate(id);
    await producer.startTurn(id);
    const client = track(await b.stream(id));
    await client.waitFor('live', () => client.control('live').length === 1);
    await producer.deltas(id, 4, false);
    await db.leases.end(id);
    await client.done;
    const h = await head(id);
    expect(client.seqs()).toEqual(range(1, h));
    expect(client.events().at(-1)).toMatchObject({ type: 'session.state', data: { to: 'ENDED' } });
    expect(client.control('end')).toEqual([{ sessionId: id, headSeq: h }]);
  });
});
