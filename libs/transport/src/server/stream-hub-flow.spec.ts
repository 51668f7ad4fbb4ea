import { ServerResponse } from 'node:http';
import { waitFor } from '../../../../test/process';
import { StreamHub } from './stream-hub';
import { HubFixture, sessionIds } from './testing/hub-fixture';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe(`${StreamHub.name} flow control and shutdown`, () => {
  let f: HubFixture;

  afterEach(async () => {
    await f.stop();
  });

  it('closes a client that never reads once its unsent bytes pass the limit', async () => {
    const limit = 64 * 1024;
    f = await HubFixture.start({ maxBufferBytes: limit });
    const [S1] = sessionIds(1, 's');
    f.history.create(S1, 'ACTIVE');
    const healthy = await f.openLive(S1);
    const stuck = f.open(S1, undefined, {}, { read: false });
    await waitFor(
      'two resumed streams',
      () => f.hub.openStreams === 2 && f.metrics.resumes.length === 2,
      10_000,
      10,
    );
    let maxUnsent = 0;
    const write = ServerResponse.prototype.write;
    const spy = jest.spyOn(ServerResponse.prototype, 'write').mockImplementation(function (
      this: ServerResponse,
      ...args: unknown[]
    ) {
      const ok = (write as (...a: unknown[]) => boolean).apply(this, args);
      maxUnsent = Math.max(maxUnsent, this.writableLength);
      return ok;
    });
    let published = 0;
    try {
      // Up to 64 MiB for a stuck client; it must be cut off long before.
      while (f.metrics.get('slowClientClosed') === 0 && published < 16_000) {
        for (let i = 0; i < 8; i++) await f.publish(f.history.appendDeltas(S1, 1, 4096));
        published += 8;
        await nextTurn();
      }
    } finally {
      spy.mockRestore();
    }
    expect(f.metrics.get('slowClientClosed')).toBe(1);
    await waitFor('one open stream', () => f.hub.openStreams === 1, 10_000, 10); // the paused client itself never reads the FIN
    stuck.close();
    // the limit leaves room for one frame (4 KiB of text and its envelope) on top
    expect(maxUnsent).toBeLessThanOrEqual(limit + 8 * 1024);
    await healthy.waitFor((c) => c.seqs.length === published + 2, 30_000);
    expect(healthy.seqs).toEqual(Array.from({ length: published + 2 }, (_, i) => i + 1));
  });

  it('delivers one frame larger than the limit to a client that keeps up', async () => {
    f = await HubFixture.start({ maxBufferBytes: 8 * 1024 });
    const [S1] = sessionIds(1, 'b');
    f.history.create(S1, 'ACTIVE');
    const reader = await f.openLive(S1);
    await f.publish([
      ...f.history.appendDeltas(S1, 1, 32 * 1024),
      ...f.history.appendDeltas(S1, 1, 16),
    ]);
    await reader.waitFor((c) => c.seqs.length === 4);
    expect(reader.seqs).toEqual([1, 2, 3, 4]);
    expect(f.metrics.get('slowClientClosed')).toBe(0);
  });

  it('drains: a jittered retry to every stream, closes spread over the duration', async () => {
    f = await HubFixture.start();
    const [S1, S2] = sessionIds(2, 'd');
    f.history.create(S1, 'ACTIVE');
    f.history.create(S2, 'SUSPENDED');
    const clients = await Promise.all([S1, S1, S1, S2, S2].map((id) => f.openLive(id)));
    const started = Date.now();
    const closedAt: number[] = [];
    for (const client of clients) void client.done.then(() => closedAt.push(Date.now() - started));
    await f.hub.drain(400);
    expect(f.hub.openStreams).toBe(0);
    await Promise.all(clients.map((client) => client.done));
    for (const client of clients) {
      const retry = client.frames.at(-1)?.retry;
      expect(client.frames.at(-2)?.event).toBe('live');
      expect(retry).toBeGreaterThanOrEqual(0);
      expect(retry).toBeLessThanOrEqual(1000);
    }
    // Spread, not all at once: the last close cannot come before 4/5 of the duration.
    expect(Math.max(...closedAt)).toBeGreaterThanOrEqual(300);
    expect(f.metrics.get('streamClosed')).toBe(5);
  });

  it('answers a stream opened while draining with a retry and an immediate close', async () => {
    f = await HubFixture.start();
    const [S1] = sessionIds(1, 'e');
    f.history.create(S1, 'ACTIVE');
    await f.hub.drain(10);
    const late = f.open(S1);
    await late.done;
    expect(late.status).toBe(200);
    expect(late.frames).toHaveLength(1);
    expect(late.frames[0].retry).toBeLessThanOrEqual(1000);
    expect(f.history.eventReads).toEqual([]);
  });

  it('finishes a drain even when a client never reads', async () => {
    f = await HubFixture.start({ maxBufferBytes: 1 << 30 });
    const [S1] = sessionIds(1, 'f');
    f.history.create(S1, 'ACTIVE');
    const stuck = f.open(S1, undefined, {}, { read: false });
    await waitFor('the first read', () => f.history.eventReads.length === 1, 10_000, 10);
    for (let i = 0; i < 40; i++) {
      await f.publish(f.history.appendDeltas(S1, 50, 4096));
      await nextTurn();
    }
    await f.hub.drain(100);
    expect(f.hub.openStreams).toBe(0);
    stuck.close();
  }, 15_000);
});
