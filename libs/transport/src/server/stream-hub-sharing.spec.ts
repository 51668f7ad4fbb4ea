import { waitFor } from '../../../../test/process';
import { SessionFanout } from './session-fanout';
import { StreamHub } from './stream-hub';
import { HubFixture, sessionIds } from './testing/hub-fixture';

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe(`${StreamHub.name} shared resumes`, () => {
  let f: HubFixture;

  beforeEach(async () => {
    f = await HubFixture.start({}, undefined, { headsFromHub: true });
  });
  afterEach(async () => {
    expect(f.errors).toEqual([]);
    await f.stop();
    jest.restoreAllMocks();
  });

  it('resumes 10 identical cursors one after another with one read and one head lookup', async () => {
    const [S1] = sessionIds(1, 'h');
    f.history.create(S1, 'SUSPENDED');
    f.history.appendDeltas(S1, 20); // head 22
    const clients = [];
    for (let i = 0; i < 10; i++) clients.push(await f.openLive(S1, 12));
    for (const client of clients) expect(client.seqs).toEqual(range(13, 22));
    expect(f.history.eventReads).toEqual([{ sessionId: S1, afterSeq: 12, limit: 200 }]);
    expect(f.history.headReads).toEqual([[S1]]);
    expect(f.metrics.resumes).toEqual(Array(10).fill('replayed'));
  });

  it('shares one read among identical resumes in flight', async () => {
    const [S1] = sessionIds(1, 'i');
    f.history.create(S1, 'ACTIVE');
    f.history.appendDeltas(S1, 5);
    const first = await f.openLive(S1, 7); // the session is followed; its cache holds nothing below 8
    const reads = jest.spyOn(SessionFanout.prototype, 'read');
    const release = f.history.holdReads();
    const clients = Array.from({ length: 5 }, () => f.open(S1, 3));
    await waitFor('five reads', () => reads.mock.calls.length === 5, 10_000, 10);
    release();
    await Promise.all(clients.map((c) => c.waitFor((x) => x.named('live').length === 1)));
    for (const client of clients) expect(client.seqs).toEqual([4, 5, 6, 7]);
    expect(first.seqs).toEqual([]);
    expect(f.history.eventReads.map((read) => read.afterSeq)).toEqual([7, 3]);
  });

  it('serves different cursors within the cache without a read, and reads below it', async () => {
    const [S1] = sessionIds(1, 'j');
    f.history.create(S1, 'ACTIVE');
    f.history.appendDeltas(S1, 20); // head 22
    await f.openLive(S1, 10);
    const within = await Promise.all([12, 17, 21, 22].map((after) => f.openLive(S1, after)));
    expect(within.map((c) => c.seqs)).toEqual([range(13, 22), range(18, 22), [22], []]);
    expect(f.history.eventReads.map((read) => read.afterSeq)).toEqual([10]);
    const below = await f.openLive(S1, 4);
    expect(below.seqs).toEqual(range(5, 22));
    expect(f.history.eventReads.map((read) => read.afterSeq)).toEqual([10, 4]);
    // The page below merged into the cache: cursors down to 4 now cost nothing.
    expect((await f.openLive(S1, 6)).seqs).toEqual(range(7, 22));
    expect(f.history.eventReads).toHaveLength(2);
    expect(f.history.headReads).toHaveLength(1);
  });

  it('delivers every event once after a lost hint opened a hole, and keeps the cache sound', async () => {
    const [S1] = sessionIds(1, 'k');
    f.history.create(S1, 'ACTIVE');
    const live = await Promise.all([f.openLive(S1), f.openLive(S1)]);
    f.history.appendDeltas(S1, 3); // hints of 3..5 lost
    await f.publish(f.history.appendDeltas(S1, 1)); // 6 arrives past the hole
    await Promise.all(live.map((c) => c.waitFor((x) => x.seqs.length === 6)));
    f.history.appendDeltas(S1, 2); // 7, 8: every hint lost, repaired by the sync round
    await f.hub.syncNow();
    await Promise.all(live.map((c) => c.waitFor((x) => x.seqs.length === 8)));
    for (const client of live) expect(client.seqs).toEqual(range(1, 8));
    const reads = f.history.eventReads.length;
    const late = await Promise.all([0, 2, 5].map((after) => f.openLive(S1, after)));
    expect(late.map((c) => c.seqs)).toEqual([range(1, 8), range(3, 8), [6, 7, 8]]);
    expect(f.history.eventReads).toHaveLength(reads);
    await f.publish(f.history.appendDeltas(S1, 1));
    for (const client of [...live, ...late]) {
      await client.waitFor((x) => x.seqs.at(-1) === 9);
      expect(new Set(client.seqs).size).toBe(client.seqs.length);
    }
  });

  it('looks the head up when the cursor is above the head the node knows (no false cursor_ahead)', async () => {
    const [S1] = sessionIds(1, 'l');
    f.history.create(S1, 'ACTIVE');
    await f.openLive(S1);
    f.history.appendDeltas(S1, 3); // 3..5, hints lost: the node still believes the head is 2
    const client = await f.openLive(S1, 4);
    expect(client.named('gap')).toEqual([]);
    expect(client.seqs).toEqual([5]);
    expect(f.metrics.resumes).toEqual(['replayed', 'replayed']);
    expect(f.history.headReads).toEqual([[S1], [S1]]);
  });

  it('answers 204 from the followed head of an ENDED session without a lookup', async () => {
    const [S1] = sessionIds(1, 'm');
    f.history.create(S1, 'ACTIVE');
    const first = await f.openLive(S1, 1); // cache holds 2 only
    const release = f.history.holdReads();
    const resuming = f.open(S1, 0); // reads below the cache: held, keeps the session followed
    await waitFor('the second read', () => f.history.eventReads.length === 2, 10_000, 10);
    await f.publish(f.history.transition(S1, 'ENDED'));
    await first.done;
    const ended = f.open(S1, 3);
    await ended.done;
    expect(ended.status).toBe(204);
    expect(f.history.headReads).toEqual([[S1]]);
    release();
    await resuming.done;
    expect(resuming.seqs).toEqual([1, 2, 3]);
    expect(resuming.frames.at(-1)).toEqual({ event: 'end', data: { sessionId: S1, headSeq: 3 } });
  });

  it('answers 404 for an unknown session', async () => {
    const [S1, UNKNOWN] = sessionIds(2, 'n');
    f.history.create(S1, 'ACTIVE');
    const [known, unknown] = [f.open(S1), f.open(UNKNOWN)];
    await unknown.done;
    expect(unknown.status).toBe(404);
    await known.waitFor((c) => c.named('live').length === 1);
  });

  it('keeps every event with a tail cache bounded to a few events', async () => {
    await f.stop();
    f = await HubFixture.start({ tailCacheBytes: 4096 }, undefined, { headsFromHub: true });
    const [S1] = sessionIds(1, 'o');
    f.history.create(S1, 'ACTIVE');
    f.history.appendDeltas(S1, 30, 1024); // head 32, frames over 1 KiB each
    await f.openLive(S1);
    const resumes = await Promise.all([0, 20, 29].map((after) => f.openLive(S1, after)));
    expect(resumes.map((c) => c.seqs)).toEqual([range(1, 32), range(21, 32), [30, 31, 32]]);
    // Only the last few events fit: the two lower cursors read, the one near the head does not.
    expect(f.history.eventReads.map((read) => read.afterSeq).sort((x, y) => x - y)).toEqual([
      0, 0, 20,
    ]);
  });
});
