import { createTestDatabase, type TestDatabase } from '../../../test/database';
import {
  daysAgo,
  dropDayPartition,
  partitionPastDays,
  seedSessionHistory,
  withClient,
} from '../../../test/history-seed';
import { listEventPartitions } from './partition-maintenance';
import { runRetention } from './retention';

const DAY_MS = 86_400_000;
const dayName = (days: number) =>
  `events_p${daysAgo(days).toISOString().slice(0, 10).replaceAll('-', '')}`;

describe(runRetention.name, () => {
  let db: TestDatabase;
  const retention = (retentionDays?: number) =>
    runRetention(db.url, { applicationName: 'sessionwire-test', retentionDays });
  const seqs = async (sessionId: string) =>
    (await db.store.getEventsAfter(sessionId, 0, 10_000)).map((e) => e.seq);
  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i);

  beforeEach(async () => {
    db = await createTestDatabase();
    await partitionPastDays(db, 6);
  });
  afterEach(async () => {
    await db.drop();
  });

  it('drops the partitions older than EVENT_RETENTION_DAYS and keeps newer history intact', async () => {
    const old = await seedSessionHistory(db, [6, 5, 4, 3, 2, 1, 0], 10); // 70 events, 10 a day
    const recent = await seedSessionHistory(db, [1, 0], 10);
    const gone = await seedSessionHistory(db, [6, 5], 10);

    const result = await retention(3);
    expect(result.dropped).toEqual([dayName(6), dayName(5), dayName(4)]);
    expect(result.cutoff!.getTime()).toBeGreaterThan(Date.now() - 3 * DAY_MS - 60_000);

    expect(await seqs(old.sessionId)).toEqual(range(31, 70));
    expect(await db.store.getOldestSeq(old.sessionId)).toBe(31);
    expect(await seqs(recent.sessionId)).toEqual(range(1, 20));
    expect(await seqs(gone.sessionId)).toEqual([]);
    expect(await db.store.getOldestSeq(gone.sessionId)).toBeUndefined();
    // sessions rows and heads stay
    expect(await db.store.getHeadSeq(gone.sessionId)).toBe(20);
    // what is left still pages both ways
    const before = await db.store.getEventsBefore(old.sessionId, 41, 100);
    expect(before.map((e) => e.seq)).toEqual(range(31, 40));

    // the next days' partitions exist, the dropped ones are gone, and a rerun changes nothing
    const names = (await withClient(db, (c) => listEventPartitions(c))).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining([dayName(3), dayName(0), dayName(-6)]));
    expect(names).not.toContain(dayName(4));
    expect(await retention(3)).toMatchObject({ created: [], dropped: [] });
  });

  it('keeps everything when EVENT_RETENTION_DAYS is unset, and still makes the coming partitions', async () => {
    const old = await seedSessionHistory(db, [6, 0], 5);
    await withClient(db, (c) => c.query(`drop table "${dayName(-2)}"`));
    const result = await retention(undefined);
    expect(result).toEqual({ created: [dayName(-2)], dropped: [], skipped: [] });
    expect(await seqs(old.sessionId)).toEqual(range(1, 10));
  });

  it('lets appends run through a drop: no error, no gap', async () => {
    const old = await seedSessionHistory(db, [6, 5, 4, 0], 20);
    const live = await db.store.createSession({ id: crypto.randomUUID(), agent: 'demo' });
    let stop = false;
    const errors: unknown[] = [];
    let appended = 0;
    const appenders = [live.id, old.sessionId].map(async (sessionId) => {
      while (!stop) {
        try {
          await db.store.append(sessionId, [
            { type: 'message.delta', data: { turnId: 't', text: `${appended}` } },
          ]);
          appended++;
        } catch (error) {
          errors.push(error);
        }
      }
    });
    // a reader holding the table for a while makes the drops wait and retry
    const reader = withClient(db, async (c) => {
      await c.query('begin');
      await c.query('select count(*) from events');
      await new Promise((resolve) => setTimeout(resolve, 700));
      await c.query('commit');
    });
    let result;
    try {
      result = await retention(3);
    } finally {
      await reader;
      stop = true;
      await Promise.all(appenders);
    }
    expect(result.dropped).toEqual([dayName(6), dayName(5), dayName(4)]);
    expect(errors).toEqual([]);
    expect(appended).toBeGreaterThan(10);
    const head = await db.store.getHeadSeq(live.id);
    expect(await seqs(live.id)).toEqual(range(1, head));
    const oldHead = await db.store.getHeadSeq(old.sessionId);
    expect(await seqs(old.sessionId)).toEqual(range(61, oldHead));
  });

  it('runs from two places at once without failing, and drops each partition once', async () => {
    await seedSessionHistory(db, [6, 5, 0], 5);
    const [a, b] = await Promise.all([retention(3), retention(3)]);
    expect([...a.dropped, ...b.dropped].sort()).toEqual(
      [dayName(6), dayName(5), dayName(4)].sort(),
    );
    expect(a.dropped.length === 0 || b.dropped.length === 0).toBe(true);
  });

  it('never leaves a hole while events_default holds rows of days it missed', async () => {
    // days 5 and 1 had no partition (a missed run): their rows went to events_default
    await dropDayPartition(db, 5);
    await dropDayPartition(db, 1);
    const lapsed = await seedSessionHistory(db, [6, 5, 4, 1, 0], 5);
    const first = await retention(3);
    // events_default still holds a recent row (day 1), so nothing newer than its oldest (day 5) goes
    expect(first.dropped).toEqual([dayName(6)]);
    expect(await seqs(lapsed.sessionId)).toEqual(range(6, 25));

    // once every row of events_default is older than the cutoff, it goes with the partitions
    const later = await seedSessionHistory(db, [0], 3);
    const second = await runRetention(db.url, {
      applicationName: 'sessionwire-test',
      retentionDays: 0.5,
      now: new Date(daysAgo(0).getTime() + DAY_MS / 4),
    });
    expect(second.dropped).toEqual(
      expect.arrayContaining(['events_default', dayName(4), dayName(3), dayName(2)]),
    );
    expect(await seqs(lapsed.sessionId)).toEqual(range(21, 25));
    expect(await seqs(later.sessionId)).toEqual([1, 2, 3]);
    const names = (await withClient(db, (c) => listEventPartitions(c))).map((p) => p.name);
    expect(names).toContain('events_default');
  });
});
