import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../../test/database';
import { partitionPastDays, seedSessionHistory, withClient } from '../../../test/history-seed';
import { IdempotencyConflictError } from './errors';
import { runRetention } from './retention';

/** The log's promises that the partitioning rests on, through the EventStore. */
describe('EventStore on the partitioned log', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    await partitionPastDays(db, 6);
  });
  afterAll(() => db.drop());

  const createdAt = async (sessionId: string) =>
    withClient(db, async (c) => {
      const { rows } = await c.query(
        `select seq, created_at::text as at from events where session_id = $1 order by seq`,
        [sessionId],
      );
      return rows.map((r) => [Number(r.seq), r.at as string] as const);
    });

  it('never gives an event a created_at before the previous one, even when the clock went back', async () => {
    const session = await db.store.createSession({ id: randomUUID(), agent: 'demo' });
    // the previous event was written "tomorrow": this server's clock has since gone back a day
    const future = await withClient(db, async (c) => {
      const { rows } = await c.query(
        `update sessions set last_event_at = clock_timestamp() + interval '1 day'
         where id = $1 returning last_event_at::text as at`,
        [session.id],
      );
      return rows[0].at as string;
    });
    await db.store.append(session.id, [
      { type: 'message.delta', data: { turnId: 't', text: 'a' } },
    ]);
    await db.store.appendUserMessage(session.id, { clientMessageId: 'k', content: 'hi' });
    await db.store.transition(session.id, 'CREATED', 'STARTING', 'test');
    const rows = await createdAt(session.id);
    expect(rows.map(([seq]) => seq)).toEqual([1, 2, 3, 4]);
    for (const [seq, at] of rows.slice(1)) expect({ seq, at }).toEqual({ seq, at: future });
    const events = await db.store.getEventsAfter(session.id, 0, 10);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('keeps a message idempotent after retention removed it', async () => {
    const seeded = await seedSessionHistory(db, [6], 3);
    // seq 4: a message written six days ago, through the trigger that records its key
    await withClient(db, async (c) => {
      await c.query(
        `insert into events (session_id, seq, type, data, client_message_id, created_at)
         values ($1, 4, 'message.user', '{"clientMessageId":"kept","content":"héllo"}', 'kept',
                 $2)`,
        [seeded.sessionId, seeded.events[2][1]],
      );
      await c.query(`update sessions set head_seq = 4 where id = $1`, [seeded.sessionId]);
    });
    await runRetention(db.url, { applicationName: 'sessionwire-test', retentionDays: 3 });
    expect(await db.store.getEventsAfter(seeded.sessionId, 0, 10)).toEqual([]);

    const again = await db.store.appendUserMessage(seeded.sessionId, {
      clientMessageId: 'kept',
      content: 'héllo',
    });
    expect(again).toMatchObject({
      duplicate: true,
      event: { seq: 4, type: 'message.user', data: { clientMessageId: 'kept', content: 'héllo' } },
    });
    await expect(
      db.store.appendUserMessage(seeded.sessionId, { clientMessageId: 'kept', content: 'other' }),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
    const next = await db.store.appendUserMessage(seeded.sessionId, {
      clientMessageId: 'new',
      content: 'x',
    });
    expect(next).toMatchObject({ duplicate: false, event: { seq: 5 } });
  });
});
