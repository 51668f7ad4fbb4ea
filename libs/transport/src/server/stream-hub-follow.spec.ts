import { waitFor } from '../../../../test/process';
import { publishEvents } from './broker';
import { MemoryBroker } from './memory-broker';
import { StreamHub, type StreamHubOptions } from './stream-hub';
import type { FollowRequest } from './stream-sink';
import { FakeHistory } from './testing/fake-history';
import { sessionIds } from './testing/hub-fixture';
import { RecordingMetrics } from './testing/recording-metrics';
import { RecordingSink } from './testing/recording-sink';

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** `StreamHub.follow` on its own: a fake log, an in-memory broker and recording sinks. */
describe(`${StreamHub.name}.follow`, () => {
  let history: FakeHistory;
  let broker: MemoryBroker;
  let metrics: RecordingMetrics;
  let errors: object[];
  let hub: StreamHub;
  const [S1, S2] = sessionIds(2, 'q');

  const start = (options: Partial<StreamHubOptions> = {}) => {
    hub = new StreamHub({
      broker,
      history,
      maxReplayGap: 200,
      syncIntervalMs: 3_600_000,
      heartbeatMs: 3_600_000,
      maxBufferBytes: 1 << 20,
      metrics,
      log: { warn: () => undefined, error: (obj) => errors.push(obj) },
      ...options,
    });
  };
  const follow = (request: Omit<FollowRequest, 'head'>, sink = new RecordingSink()) => {
    sink.following = hub.follow({ ...request, head: history.head(request.sessionId) }, sink);
    return sink;
  };
  const followLive = async (request: Omit<FollowRequest, 'head'>) => {
    const sink = follow(request);
    await waitFor('live', () => sink.of('live').length === 1, 10_000, 5);
    return sink;
  };

  beforeEach(() => {
    history = new FakeHistory();
    broker = new MemoryBroker();
    metrics = new RecordingMetrics();
    errors = [];
    start();
  });
  afterEach(async () => {
    await hub.close();
    await broker.close();
  });

  it('delivers the backlog, live, live events and ended, in order, each event parsed once', async () => {
    history.create(S1, 'ACTIVE');
    history.appendDeltas(S1, 3);
    const sink = await followLive({ sessionId: S1, cursor: 1 });
    await publishEvents(broker, history.appendDeltas(S1, 2));
    await publishEvents(broker, history.transition(S1, 'ENDED'));
    await sink.following!.done;
    expect(sink.entries).toEqual([
      ['event', 2],
      ['event', 3],
      ['event', 4],
      ['event', 5],
      ['live', 5],
      ['event', 6],
      ['event', 7],
      ['event', 8],
      ['ended', 8],
    ]);
    expect(sink.events.map((event) => event.stored)).toEqual(history.events(S1).slice(1));
    expect(hub.openStreams).toBe(0);
    expect(broker.channelCount).toBe(0);
  });

  it('replays a whole backlog with maxReplayGap: Infinity where the default cap sends a gap', async () => {
    history.create(S1, 'ACTIVE');
    history.appendDeltas(S1, 1000); // head 1002
    const capped = await followLive({ sessionId: S1, cursor: 0 });
    expect(capped.of('gap')).toEqual([expect.objectContaining({ fromSeq: 1, toSeq: 1002 })]);
    history.eventReads.splice(0);
    const whole = await followLive({ sessionId: S1, cursor: 0, maxReplayGap: Infinity });
    expect(whole.of('gap')).toEqual([]);
    expect(whole.seqs).toEqual(range(1, 1002));
    // Paged by the hub's page size (at most MAX_REPLAY_GAP), never one unbounded read.
    expect(history.eventReads.every((read) => read.limit === 200)).toBe(true);
  });

  it('catches a live follower with maxReplayGap: Infinity up without a gap, where the cap skips', async () => {
    history.create(S1, 'ACTIVE');
    const capped = await followLive({ sessionId: S1, cursor: 2 });
    const whole = await followLive({ sessionId: S1, cursor: 2, maxReplayGap: Infinity });
    history.appendDeltas(S1, 450); // every hint lost: 3..452
    await hub.syncNow();
    await waitFor('450 events', () => whole.seqs.length === 450, 10_000, 5);
    expect(whole.seqs).toEqual(range(3, 452));
    expect(whole.of('gap')).toEqual([]);
    expect(capped.of('gap')).toEqual([expect.objectContaining({ fromSeq: 3, toSeq: 452 })]);
    expect(capped.seqs).toEqual([]);
  });

  it('announces history removed by retention during a live catch-up, then goes on', async () => {
    history.create(S1, 'ACTIVE');
    const sink = await followLive({ sessionId: S1, cursor: 2 });
    history.appendDeltas(S1, 10); // 3..12, hints lost
    history.expire(S1, 8);
    await hub.syncNow();
    await waitFor('4 events', () => sink.seqs.length === 4, 10_000, 5);
    expect(sink.of('gap')).toEqual([
      expect.objectContaining({ reason: 'history_expired', fromSeq: 3, toSeq: 8, headSeq: 12 }),
    ]);
    expect(sink.seqs).toEqual(range(9, 12));
    expect(metrics.get('gapSent')).toBe(1);
  });

  it('ends a follower that starts at the head of an ENDED session without a live frame', async () => {
    history.create(S1, 'ENDED');
    const sink = follow({ sessionId: S1, cursor: 2 });
    await sink.following!.done;
    expect(sink.entries).toEqual([['ended', 2]]);
  });

  it('gives every open follower the shared heartbeat with its session head', async () => {
    await hub.close();
    start({ heartbeatMs: 30 });
    history.create(S1, 'ACTIVE');
    history.create(S2, 'SUSPENDED');
    const [a, b, c] = await Promise.all([
      followLive({ sessionId: S1, cursor: 0 }),
      followLive({ sessionId: S1, cursor: 2 }),
      followLive({ sessionId: S2, cursor: 0 }),
    ]);
    await waitFor(
      'two heartbeats on each stream',
      () => [a, b, c].every((sink) => sink.of('heartbeat').length >= 2),
      10_000,
      5,
    );
    const head = { headSeq: 2, state: 'ACTIVE', activity: 'idle' };
    expect(a.of('heartbeat')[0]).toEqual(head);
    expect(a.of('heartbeat')[0]).toBe(b.of('heartbeat')[0]); // one snapshot per session and tick
    expect(c.of('heartbeat')[0]).toMatchObject({ state: 'SUSPENDED' });
  });

  it('forgets a closed follower: nothing more reaches it, its session is unsubscribed', async () => {
    history.create(S1, 'ACTIVE');
    const sink = await followLive({ sessionId: S1, cursor: 2 });
    sink.following!.close();
    sink.following!.close();
    await sink.following!.done;
    await publishEvents(broker, history.appendDeltas(S1, 2));
    expect(sink.entries).toEqual([['live', 2]]);
    expect(hub.openStreams).toBe(0);
    await waitFor('no channel left', () => broker.channelCount === 0, 10_000, 5);
    expect([metrics.get('streamOpened'), metrics.get('streamClosed')]).toEqual([1, 1]);
  });

  it('drains: stops every follower with drain and resolves once their front ends closed', async () => {
    history.create(S1, 'ACTIVE');
    const sinks = await Promise.all([0, 1, 2].map(() => followLive({ sessionId: S1, cursor: 2 })));
    await hub.drain(60);
    for (const sink of sinks)
      expect(sink.entries).toEqual([
        ['live', 2],
        ['stopped', 'drain'],
      ]);
    expect(hub.openStreams).toBe(0);
    expect(hub.isAccepting).toBe(false);
    const late = follow({ sessionId: S1, cursor: 2 });
    expect(late.entries).toEqual([]);
    await Promise.resolve();
    expect(late.entries).toEqual([['stopped', 'drain']]);
    expect(history.eventReads).toHaveLength(1);
  });

  it('drains around a follower that holds on drain: it goes on until its front end closes it', async () => {
    history.create(S1, 'ACTIVE');
    const plain = await followLive({ sessionId: S1, cursor: 2 });
    const held = await followLive({ sessionId: S1, cursor: 2, holdOnDrain: true });
    const drained = hub.drain(20);
    await waitFor('the plain follower stopped', () => plain.of('stopped').length === 1, 10_000, 5);
    await publishEvents(broker, history.appendDeltas(S1, 1));
    await waitFor(
      'the held follower got the event',
      () => held.of('event').length === 1,
      10_000,
      5,
    );
    expect(held.entries).toEqual([
      ['live', 2],
      ['event', 3],
    ]);
    let done = false;
    void drained.then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).toBe(false);
    held.following!.close();
    await drained;
    expect(plain.entries).toEqual([
      ['live', 2],
      ['stopped', 'drain'],
    ]);
    expect(hub.openStreams).toBe(0);
  });

  it('stops a follower whose live events buffered during its resume pass maxBufferBytes', async () => {
    await hub.close();
    start({ maxBufferBytes: 16 * 1024 });
    history.create(S1, 'ACTIVE');
    const release = history.holdReads();
    const sink = follow({ sessionId: S1, cursor: 0 });
    await waitFor('the first read', () => history.eventReads.length === 1, 10_000, 5);
    for (let i = 0; i < 8 && sink.of('stopped').length === 0; i++) {
      await publishEvents(broker, history.appendDeltas(S1, 1, 4096));
    }
    expect(sink.entries).toEqual([['stopped', 'overflow']]);
    expect(metrics.get('slowClientClosed')).toBe(1);
    release();
    await sink.following!.done;
    expect(sink.entries).toEqual([['stopped', 'overflow']]);
  });

  it('stops a follower with failed when its resume read fails, and logs it', async () => {
    history.create(S1, 'ACTIVE');
    const failure = new Error('connection lost');
    jest.spyOn(history, 'getEventsAfter').mockRejectedValueOnce(failure);
    const sink = follow({ sessionId: S1, cursor: 0 });
    await sink.following!.done;
    expect(sink.entries).toEqual([['stopped', 'failed']]);
    expect(sink.error).toBe(failure);
    expect(errors).toEqual([expect.objectContaining({ err: failure, sessionId: S1, cursor: 0 })]);
  });
});
