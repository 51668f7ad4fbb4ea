import { waitFor } from '../../../../test/process';
import { sessionChannel } from './broker';
import { MemoryBroker } from './memory-broker';
import { StreamHub } from './stream-hub';
import { HubFixture, sessionIds } from './testing/hub-fixture';

/** A MemoryBroker whose upstream "reconnects" on demand. */
class ReconnectingBroker extends MemoryBroker {
  private readonly listeners: (() => void)[] = [];
  override onResubscribe(listener: () => void): void {
    this.listeners.push(listener);
  }
  reconnect(): void {
    for (const listener of this.listeners) listener();
  }
}

/** A MemoryBroker whose subscriptions hang until `release` (Redis away): hints are lost meanwhile. */
class StalledBroker extends MemoryBroker {
  private stalled: (() => void)[] = [];
  override subscribe(...args: Parameters<MemoryBroker['subscribe']>) {
    return new Promise<void>((resolve) => this.stalled.push(resolve)).then(() =>
      super.subscribe(...args),
    );
  }
  release(): void {
    for (const resolve of this.stalled.splice(0)) resolve();
  }
}

describe(`${StreamHub.name} while the broker cannot subscribe`, () => {
  it('serves a new stream through the periodic sync, then through hints once subscribed', async () => {
    const stalled = new StalledBroker();
    const f = await HubFixture.start({ syncIntervalMs: 50, subscribeWaitMs: 100 }, stalled);
    try {
      const [S1] = sessionIds(1, 'r');
      f.history.create(S1, 'ACTIVE');
      const client = await f.openLive(S1);
      f.history.appendDeltas(S1, 3); // written to the log; the hint is lost
      await client.waitFor((c) => c.seqs.length === 5);
      stalled.release();
      await f.publish(f.history.appendDeltas(S1, 1));
      await client.waitFor((c) => c.seqs.length === 6);
      expect(client.seqs).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      await f.stop();
    }
  });
});

describe(`${StreamHub.name} live repair and sync`, () => {
  let f: HubFixture;
  let broker: ReconnectingBroker;

  beforeEach(async () => {
    broker = new ReconnectingBroker();
    f = await HubFixture.start({}, broker);
  });
  afterEach(async () => {
    expect(f.errors).toEqual([]);
    await f.stop();
  });

  it('keeps one broker subscription per session however many local streams', async () => {
    const [S1, S2] = sessionIds(2);
    f.history.create(S1, 'ACTIVE');
    f.history.create(S2, 'ACTIVE');
    const subscribe = jest.spyOn(broker, 'subscribe');
    const streams = await Promise.all([f.openLive(S1), f.openLive(S1), f.openLive(S2)]);
    expect(subscribe).toHaveBeenCalledTimes(2);
    expect(broker.channelCount).toBe(2);
    streams[0].close();
    await waitFor('two open streams', () => f.hub.openStreams === 2, 10_000, 10);
    expect(broker.channelCount).toBe(2);
    streams[1].close();
    await waitFor('one channel', () => broker.channelCount === 1, 10_000, 10);
  });

  it('repairs a missed hint with one read shared by every local stream', async () => {
    const [S1] = sessionIds(1);
    f.history.create(S1, 'ACTIVE');
    const streams = await Promise.all([f.openLive(S1), f.openLive(S1), f.openLive(S1)]);
    f.history.eventReads.splice(0);
    f.history.appendDeltas(S1, 3); // hints of 3..5 lost
    await f.publish(f.history.appendDeltas(S1, 1)); // 6 arrives: 3..5 are missing
    await Promise.all(streams.map((c) => c.waitFor((x) => x.seqs.length === 6)));
    for (const client of streams) expect(client.seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(f.history.eventReads).toEqual([{ sessionId: S1, afterSeq: 2, limit: 200 }]);
    expect(f.metrics.get('hintMissed')).toBe(1);
    expect(f.metrics.get('hintRepaired')).toBe(1);
  });

  it('reads the range of a head-only hint once for all streams', async () => {
    const [S1] = sessionIds(1);
    f.history.create(S1, 'ACTIVE');
    const streams = await Promise.all([f.openLive(S1), f.openLive(S1)]);
    f.history.eventReads.splice(0);
    f.history.appendDeltas(S1, 4);
    await broker.publish(sessionChannel(S1), JSON.stringify({ sessionId: S1, headSeq: 6 }));
    await Promise.all(streams.map((c) => c.waitFor((x) => x.seqs.length === 6)));
    expect(f.history.eventReads).toHaveLength(1);
    expect(f.metrics.get('hintMissed')).toBe(0);
  });

  it('checks every streamed session with one batched getHeads per round', async () => {
    const ids = sessionIds(4, 'b');
    for (const id of ids) f.history.create(id, 'ACTIVE');
    await Promise.all([...ids, ids[0]].map((id) => f.openLive(id)));
    f.history.eventReads.splice(0);
    await f.hub.syncNow();
    await f.hub.syncNow();
    expect(f.history.headReads).toHaveLength(2);
    expect([...f.history.headReads[0]].sort()).toEqual([...ids].sort());
    expect(f.history.eventReads).toEqual([]);
    expect(f.metrics.get('syncRound')).toBe(2);
  });

  it('costs resting SUSPENDED and DETACHED sessions no read beyond the batched query', async () => {
    const [SUS, DET] = sessionIds(2, 'c');
    f.history.create(SUS, 'SUSPENDED');
    f.history.create(DET, 'DETACHED');
    const streams = await Promise.all([f.openLive(SUS), f.openLive(DET)]);
    f.history.eventReads.splice(0);
    // Their logs grow without hints (as if appended elsewhere while resting).
    f.history.appendDeltas(SUS, 2);
    f.history.appendDeltas(DET, 2);
    for (let round = 0; round < 3; round++) await f.hub.syncNow();
    expect(f.history.headReads).toHaveLength(3);
    expect(f.history.eventReads).toEqual([]);
    expect(streams.map((c) => c.seqs)).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(f.metrics.get('syncCatchUp')).toBe(0);
  });

  it('gives a session leaving ACTIVE one final catch-up, then rests', async () => {
    const [S1] = sessionIds(1, 'd');
    f.history.create(S1, 'ACTIVE');
    const client = await f.openLive(S1);
    await f.hub.syncNow();
    f.history.appendDeltas(S1, 2);
    f.history.transition(S1, 'SUSPENDED'); // every hint lost: 3, 4, 5
    await f.hub.syncNow();
    await client.waitFor((c) => c.seqs.length === 5);
    const reads = f.history.eventReads.length;
    f.history.appendDeltas(S1, 1);
    await f.hub.syncNow();
    await f.hub.syncNow();
    expect(f.history.eventReads).toHaveLength(reads);
    expect(client.seqs).toEqual([1, 2, 3, 4, 5]);
    expect(f.metrics.get('syncCatchUp')).toBe(1);
  });

  it('delivers the last events and end of a session that ended while its hints were lost', async () => {
    const [S1] = sessionIds(1, 'e');
    f.history.create(S1, 'ACTIVE');
    const client = await f.openLive(S1);
    f.history.appendDeltas(S1, 3);
    f.history.transition(S1, 'ENDED');
    await f.hub.syncNow();
    await client.done;
    expect(client.seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(client.frames.at(-1)).toEqual({ event: 'end', data: { sessionId: S1, headSeq: 6 } });
    await waitFor('no channel left', () => broker.channelCount === 0, 10_000, 10);
    await f.hub.syncNow();
    expect(f.history.headReads).toHaveLength(1); // nothing left to check
  });

  it('notices a woken SUSPENDED session at the next round even if every hint was lost', async () => {
    const [S1] = sessionIds(1, 'f');
    f.history.create(S1, 'SUSPENDED');
    const client = await f.openLive(S1);
    f.history.transition(S1, 'STARTING');
    f.history.transition(S1, 'ACTIVE');
    f.history.appendDeltas(S1, 1);
    await f.hub.syncNow();
    await client.waitFor((c) => c.seqs.length === 5);
    expect(client.seqs).toEqual([1, 2, 3, 4, 5]);
  });

  it('ends a resting session whose end hint was lost (its state changed since the last round)', async () => {
    const [S1] = sessionIds(1, 'g');
    f.history.create(S1, 'SUSPENDED');
    const client = await f.openLive(S1);
    f.history.transition(S1, 'ENDED');
    await f.hub.syncNow();
    await client.done;
    expect(client.frames.at(-1)).toEqual({ event: 'end', data: { sessionId: S1, headSeq: 3 } });
  });

  it('obeys the gap cap when catching up', async () => {
    const [S1] = sessionIds(1, 'h');
    f.history.create(S1, 'ACTIVE');
    const client = await f.openLive(S1);
    f.history.eventReads.splice(0);
    f.history.appendDeltas(S1, 250);
    await f.hub.syncNow();
    await client.waitFor((c) => c.named('gap').length === 1);
    expect(client.named('gap')[0]).toMatchObject({
      id: '252',
      data: { reason: 'replay_gap_exceeded', fromSeq: 3, toSeq: 252, headSeq: 252 },
    });
    expect(f.history.eventReads).toEqual([]);
    await f.publish(f.history.appendDeltas(S1, 1));
    await client.waitFor((c) => c.seqs.length === 3);
    expect(client.seqs).toEqual([1, 2, 253]);
  });

  it('runs a sync round when the broker re-subscribes', async () => {
    const [S1] = sessionIds(1, 'i');
    f.history.create(S1, 'ACTIVE');
    const client = await f.openLive(S1);
    f.history.appendDeltas(S1, 2); // published while the upstream was away
    broker.reconnect();
    await client.waitFor((c) => c.seqs.length === 4);
    expect(client.seqs).toEqual([1, 2, 3, 4]);
    expect(f.history.headReads).toHaveLength(1);
  });

  it('catches up on its own schedule every syncIntervalMs', async () => {
    const g = await HubFixture.start({ syncIntervalMs: 30 });
    try {
      const [S1] = sessionIds(1, 'j');
      g.history.create(S1, 'ACTIVE');
      const client = await g.openLive(S1);
      g.history.appendDeltas(S1, 2);
      await client.waitFor((c) => c.seqs.length === 4);
      expect(g.metrics.get('syncRound')).toBeGreaterThanOrEqual(1);
    } finally {
      await g.stop();
    }
  });
});
