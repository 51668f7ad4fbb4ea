import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { NewEvent } from '@sessionwire/transport/protocol';
import { createTestDatabase, type TestDatabase } from '../../../test/database';
import { partitionPastDays, seedSessionHistory } from '../../../test/history-seed';
import { BatchedEventReader } from './batched-history';
import { EventStore } from './event-store';
import { runRetention } from './retention';

describe(BatchedEventReader.name, () => {
  let db: TestDatabase;
  const sessionIds: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    // A log partitioned by day: sessions written over several days, one whose oldest day was
    // dropped by retention (its first stored seq is above 1).
    await partitionPastDays(db, 6);
    for (const days of [
      [5, 3, 1, 0],
      [2, 1],
      [6, 5, 4, 0],
    ]) {
      sessionIds.push((await seedSessionHistory(db, days, 10)).sessionId);
    }
    await runRetention(db.url, { applicationName: 'sessionwire-test', retentionDays: 5 });
    // Sessions of 1 to 61 events written now, and one that does not exist.
    for (let i = 0; i < 12; i++) {
      const id = randomUUID();
      await db.store.createSession({ id, agent: 'demo' });
      const count = (i * 7) % 61;
      const events: NewEvent[] = Array.from({ length: count }, (_, k) => ({
        type: 'message.delta',
        data: { turnId: 't', text: `${i}.${k}` },
      }));
      if (events.length) await db.store.append(id, events);
      sessionIds.push(id);
    }
    sessionIds.push(randomUUID());
  });
  afterAll(() => db.drop());

  it('returns per session exactly what the single-session read returns', async () => {
    const read = fc.record({
      session: fc.integer({ min: 0, max: sessionIds.length - 1 }),
      after: fc.integer({ min: 0, max: 70 }),
      limit: fc.integer({ min: 1, max: 80 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(read, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 500 }),
        async (batch, maxRows) => {
          let queries = 0;
          const store = {
            getHeads: (ids: readonly string[]) => db.store.getHeads(ids),
            getEventsAfterMany: (r: Parameters<typeof db.store.getEventsAfterMany>[0]) => {
              queries += 1;
              return db.store.getEventsAfterMany(r);
            },
          };
          const reader = new BatchedEventReader(store, { maxWeight: maxRows });
          const got = await Promise.all(
            batch.map((r) => reader.getEventsAfter(sessionIds[r.session], r.after, r.limit)),
          );
          const expected = await Promise.all(
            batch.map((r) => db.store.getEventsAfter(sessionIds[r.session], r.after, r.limit)),
          );
          expect(got).toEqual(expected);
          // Reads waiting at the same moment are served together, split only by `maxRows`.
          if (batch.reduce((rows, r) => rows + r.limit, 0) <= maxRows) expect(queries).toBe(1);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('bounds each read by its own session, with one lookup of the bounds it did not know', async () => {
    const store = new EventStore(db.handle.db);
    // Every query the store sends, by its text: the bounds lookup reads `sessions`.
    const queries = jest.spyOn(db.handle.db._.session, 'prepareQuery');
    const sent = (table: string) =>
      queries.mock.calls.filter(([query]) => query.sql.includes(`from "${table}"`)).length;
    try {
      const reads = sessionIds.map((sessionId, i) => ({ sessionId, afterSeq: i % 5, limit: 50 }));
      const got = await store.getEventsAfterMany(reads);
      expect(sent('sessions')).toBe(1);
      expect(queries).toHaveBeenCalledTimes(2);
      // Known now, but for the session that does not exist (looked for again).
      await store.getEventsAfterMany(reads.slice(0, -1));
      expect(sent('sessions')).toBe(1);
      expect(queries).toHaveBeenCalledTimes(3);
      queries.mockRestore();
      const single = await Promise.all(
        reads.map((r) => db.store.getEventsAfter(r.sessionId, r.afterSeq, r.limit)),
      );
      expect(got).toEqual(single);
      // The session whose first day was dropped starts above its cursor: history expired.
      expect(got[2][0].seq).toBe(11);
    } finally {
      queries.mockRestore();
    }
  });

  it('serves reads that arrive while a query is in flight by the next query, not the old one', async () => {
    const id = sessionIds[3];
    const reader = new BatchedEventReader(db.store);
    const first = reader.getEventsAfter(id, 0, 1000);
    await new Promise((r) => setImmediate(r));
    const [appended] = await db.store.append(id, [
      { type: 'message.delta', data: { turnId: 't', text: 'new' } },
    ]);
    const second = reader.getEventsAfter(id, 0, 1000);
    expect((await second).at(-1)).toEqual(appended);
    expect((await first).length).toBeLessThanOrEqual((await second).length);
  });
});
