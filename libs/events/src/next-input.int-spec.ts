import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { createTestDatabase, type TestDatabase } from '../../../test/database';
import { EventStore } from './event-store';

describe('EventStore.getNextInput, batched', () => {
  let db: TestDatabase;
  const sessionIds: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    // Sessions whose logs mix user messages and deltas in different patterns, and one that does
    // not exist.
    for (let i = 0; i < 10; i++) {
      const id = randomUUID();
      await db.store.createSession({ id, agent: 'demo' });
      for (let k = 0; k < 6; k++) {
        if ((i + k) % 3 !== 0) {
          await db.store.appendUserMessage(id, { clientMessageId: `m${k}`, content: `${i}.${k}` });
        }
        const deltas = (i * k) % 5;
        if (deltas) {
          await db.store.append(
            id,
            Array.from({ length: deltas }, (_, d) => ({
              type: 'message.delta' as const,
              data: { turnId: 't', text: `${i}.${k}.${d}` },
            })),
          );
        }
      }
      sessionIds.push(id);
    }
    sessionIds.push(randomUUID());
  });
  afterAll(() => db.drop());

  /** The reference: the first `message.user` above `afterSeq`, from the plain read. */
  async function firstInputAfter(sessionId: string, afterSeq: number) {
    const after = await db.store.getEventsAfter(sessionId, afterSeq, 1000);
    return after.find((e) => e.type === 'message.user');
  }

  it('answers each read as the single-session read does, with reads of one moment in one query', async () => {
    const read = fc.record({
      session: fc.integer({ min: 0, max: sessionIds.length - 1 }),
      after: fc.integer({ min: 0, max: 40 }),
    });
    const many = jest.spyOn(db.store, 'getNextInputMany');
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(read, { minLength: 1, maxLength: 30 }), async (batch) => {
          many.mockClear();
          const got = await Promise.all(
            batch.map((r) => db.store.getNextInput(sessionIds[r.session], r.after)),
          );
          expect(many).toHaveBeenCalledTimes(1);
          const expected = await Promise.all(
            batch.map((r) => firstInputAfter(sessionIds[r.session], r.after)),
          );
          expect(got).toEqual(expected);
        }),
        { numRuns: 40 },
      );
    } finally {
      many.mockRestore();
    }
  });

  it('sees an input stored after a query was sent in the next query', async () => {
    const id = randomUUID();
    await db.store.createSession({ id, agent: 'demo' });
    // A store of its own: no earlier storm makes it gather (hold the first read back).
    const store = new EventStore(db.handle.db);
    const many = jest.spyOn(store, 'getNextInputMany');
    const first = store.getNextInput(id, 1);
    await new Promise((r) => setImmediate(r));
    const { event } = await db.store.appendUserMessage(id, {
      clientMessageId: 'late',
      content: 'late',
    });
    const second = store.getNextInput(id, 1);
    // The first query may or may not see it (it ran while the append committed); the second
    // read was not served by it.
    expect([undefined, event.seq]).toContain((await first)?.seq);
    expect((await second)?.seq).toBe(event.seq);
    expect(many).toHaveBeenCalledTimes(2);
    many.mockRestore();
  });
});
