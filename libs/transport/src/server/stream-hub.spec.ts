import { ServerResponse } from 'node:http';
import { waitFor } from '../../../../test/process';
import { StreamHub } from './stream-hub';
import { HubFixture, sessionIds } from './testing/hub-fixture';

describe(StreamHub.name, () => {
  let f: HubFixture;
  const [S1, S2, S3] = sessionIds(3);

  beforeEach(async () => {
    f = await HubFixture.start();
  });
  afterEach(async () => {
    await f.stop();
  });

  it('sends the headers and a retry line before the backlog is read', async () => {
    f.history.create(S1, 'ACTIVE');
    const release = f.history.holdReads();
    const client = f.open(S1, 0);
    await client.waitFor((c) => c.frames.length === 1);
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toBe('no-cache, no-transform');
    expect(client.headers['x-accel-buffering']).toBe('no');
    expect(client.headers['connection']).toBe('keep-alive');
    expect(client.headers['content-encoding']).toBeUndefined();
    expect(client.frames).toEqual([{ retry: 1000 }]);
    expect(client.raw).toBe('retry: 1000\n\n');
    release();
    await client.waitFor((c) => c.named('live').length === 1);
    expect(client.seqs).toEqual([1, 2]);
  });

  it('answers 204 for an ENDED session whose cursor is at head', async () => {
    f.history.create(S1, 'ENDED');
    const client = f.open(S1, 2);
    await client.done;
    expect(client.status).toBe(204);
    expect(client.raw).toBe('');
    expect(f.history.eventReads).toEqual([]);
    expect(f.hub.openStreams).toBe(0);
  });

  it('replays an ENDED session to head, then sends end and closes', async () => {
    f.history.create(S1, 'ACTIVE');
    f.history.appendDeltas(S1, 3);
    f.history.transition(S1, 'ENDED');
    const client = f.open(S1, 1);
    await client.done;
    expect(client.seqs).toEqual([2, 3, 4, 5, 6]);
    expect(client.frames.at(-1)).toEqual({ event: 'end', data: { sessionId: S1, headSeq: 6 } });
    expect(client.named('live')).toEqual([]);
    await waitForClosed(f);
  });

  it('resumes 150 behind: 150 events replayed, then live, then live events', async () => {
    f.history.create(S1, 'ACTIVE');
    f.history.appendDeltas(S1, 200);
    const client = await f.openLive(S1, 52);
    expect(client.seqs).toEqual(range(53, 202));
    expect(client.named('live')[0].data).toEqual({ sessionId: S1, headSeq: 202 });
    await f.publish(f.history.appendDeltas(S1, 2));
    await client.waitFor((c) => c.seqs.length === 152);
    expect(client.seqs.slice(-2)).toEqual([203, 204]);
    expect(f.metrics.resumes).toEqual(['replayed']);
    expect(f.metrics.get('replayedEvents')).toBe(150);
    expect(f.metrics.latencies).toHaveLength(2); // live events only, not the replayed history
  });

  it('resumes 5,000 behind with one gap frame, no replay, then live events', async () => {
    f.history.create(S1, 'ACTIVE');
    f.history.appendDeltas(S1, 5000);
    const client = await f.openLive(S1, 2);
    expect(client.frames.map((frame) => frame.event)).toEqual([undefined, 'gap', 'live']);
    expect(client.named('gap')[0]).toEqual({
      id: '5002',
      event: 'gap',
      data: {
        sessionId: S1,
        reason: 'replay_gap_exceeded',
        fromSeq: 3,
        toSeq: 5002,
        headSeq: 5002,
        state: 'ACTIVE',
        activity: 'idle',
        historyUrl: `/v1/sessions/${S1}/events?after=2&limit=1000`,
      },
    });
    expect(f.history.eventReads).toEqual([{ sessionId: S1, afterSeq: 5002, limit: 200 }]);
    await f.publish(f.history.appendDeltas(S1, 1));
    await client.waitFor((c) => c.seqs.length === 1);
    expect(client.seqs).toEqual([5003]);
    expect(f.metrics.resumes).toEqual(['gap']);
    expect(f.metrics.get('gapSent')).toBe(1);
  });

  it('costs the same to resume 300 or 100,000 behind: same reads, same bytes but numbers', async () => {
    f.history.create(S1, 'ACTIVE');
    f.history.appendDeltas(S1, 300);
    f.history.create(S2, 'ACTIVE');
    f.history.appendDeltas(S2, 100_000);
    const near = await f.openLive(S1, 2);
    const readsNear = f.history.eventReads.splice(0);
    const far = await f.openLive(S2, 2);
    const readsFar = f.history.eventReads.splice(0);
    const shape = (reads: typeof readsNear) =>
      reads.map((r) => ({ ...r, sessionId: '', afterSeq: 0 }));
    expect(shape(readsFar)).toEqual(shape(readsNear));
    expect(readsNear).toHaveLength(1);
    const normalize = (raw: string, id: string) => raw.replaceAll(id, 'S').replace(/\d+/g, 'N');
    expect(normalize(far.raw, S2)).toBe(normalize(near.raw, S1));
    expect(far.raw.length - near.raw.length).toBeLessThan(16);
  });

  it('answers a cursor past head with cursor_ahead, then goes live (or ends when ENDED)', async () => {
    f.history.create(S1, 'ACTIVE');
    f.history.create(S2, 'ENDED');
    const ahead = await f.openLive(S1, 40);
    expect(ahead.named('gap')[0].data).toMatchObject({
      reason: 'cursor_ahead',
      fromSeq: 1,
      toSeq: 2,
      headSeq: 2,
      historyUrl: `/v1/sessions/${S1}/events?after=0&limit=1000`,
    });
    const ended = f.open(S2, 40);
    await ended.done;
    expect(ended.frames.map((frame) => frame.event)).toEqual([undefined, 'gap', 'end']);
    expect(f.metrics.resumes).toEqual(['cursor_ahead', 'cursor_ahead']);
  });

  it('streams live events to every local stream and ends them all when the session ends', async () => {
    f.history.create(S1, 'ACTIVE');
    f.history.create(S3, 'ACTIVE');
    const a = await f.openLive(S1, 2);
    const b = await f.openLive(S1, 2);
    const other = await f.openLive(S3, 2);
    await f.publish(f.history.appendDeltas(S1, 3));
    await f.publish(f.history.transition(S1, 'ENDED'));
    await Promise.all([a.done, b.done]);
    for (const client of [a, b]) {
      expect(client.seqs).toEqual([3, 4, 5, 6]);
      expect(client.frames.at(-1)).toEqual({ event: 'end', data: { sessionId: S1, headSeq: 6 } });
    }
    expect(other.seqs).toEqual([]);
    expect(f.hub.openStreams).toBe(1);
    expect(f.metrics.latencies.length).toBe(8);
    expect(f.metrics.latencies.every((seconds) => seconds >= 0)).toBe(true);
  });

  it('serializes each event once for all streams and writes once per tick to each', async () => {
    f.history.create(S1, 'ACTIVE');
    const a = await f.openLive(S1, 2);
    const b = await f.openLive(S1, 2);
    const events = f.history.appendDeltas(S1, 3);
    const stringify = jest.spyOn(JSON, 'stringify');
    const writes = jest.spyOn(ServerResponse.prototype, 'write');
    try {
      await f.publish(events); // one hint carrying three events
      await Promise.all([a, b].map((c) => c.waitFor((x) => x.seqs.length === 3)));
      // One stringify for the hint payload (publisher side), one per event frame (hub side).
      expect(stringify).toHaveBeenCalledTimes(1 + 3);
      expect(writes).toHaveBeenCalledTimes(2);
    } finally {
      stringify.mockRestore();
      writes.mockRestore();
    }
    expect(a.raw).toBe(b.raw);
  });

  it('cleans up when the client goes away: no stream, no subscription', async () => {
    f.history.create(S1, 'ACTIVE');
    const a = await f.openLive(S1);
    const b = await f.openLive(S1);
    expect(f.hub.openStreams).toBe(2);
    a.close();
    b.close();
    await waitForClosed(f);
    expect((f.broker as unknown as { channelCount: number }).channelCount).toBe(0);
    expect(f.metrics.get('streamOpened')).toBe(2);
    expect(f.metrics.get('streamClosed')).toBe(2);
  });
});

describe(`${StreamHub.name} backlog paging`, () => {
  it('pages through the backlog up to head, never reading past what the cap allows', async () => {
    const f = await HubFixture.start({ pageSize: 50, maxReplayGap: 200 });
    try {
      const [S1] = sessionIds(1, 'p');
      f.history.create(S1, 'ACTIVE');
      f.history.appendDeltas(S1, 150);
      const client = await f.openLive(S1, 2);
      expect(client.seqs).toEqual(range(3, 152));
      expect(f.history.eventReads.map((r) => [r.afterSeq, r.limit])).toEqual([
        [2, 50],
        [52, 50],
        [102, 50],
      ]);
    } finally {
      await f.stop();
    }
  });
});

describe(`${StreamHub.name} heartbeats`, () => {
  it('sends heartbeats from one shared timer to every stream', async () => {
    const f = await HubFixture.start({ heartbeatMs: 40 });
    try {
      const [S1, S2] = sessionIds(2, 'h');
      f.history.create(S1, 'ACTIVE');
      f.history.create(S2, 'SUSPENDED');
      f.history.setActivity(S1, 'running');
      const timers = jest.spyOn(global, 'setInterval');
      const streams = await Promise.all([f.openLive(S1), f.openLive(S1), f.openLive(S2)]);
      await Promise.all(streams.map((c) => c.waitFor((x) => x.named('heartbeat').length >= 2)));
      expect(timers).not.toHaveBeenCalled();
      timers.mockRestore();
      expect(streams[0].named('heartbeat')[0].data).toEqual({
        headSeq: 2,
        state: 'ACTIVE',
        activity: 'running',
      });
      expect(streams[2].named('heartbeat')[0].data).toMatchObject({ state: 'SUSPENDED' });
    } finally {
      await f.stop();
    }
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

async function waitForClosed(f: HubFixture): Promise<void> {
  await waitFor('every stream closed', () => f.hub.openStreams === 0, 10_000, 10);
  expect(f.hub.openStreams).toBe(0);
}
