import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../../../test/database';
import { partitionPastDays, seedSessionHistory, withClient } from '../../../../test/history-seed';
import { IdempotencyConflictError } from '../errors';
import { runRetention } from '../retention';
import { SessionWriter } from './session-writer';
import type { WriteObserver } from './write-pipeline';

/** Records which path each commit took. */
function recordingObserver() {
  const paths: string[] = [];
  const observer: WriteObserver = {
    depth: () => undefined,
    waited: () => undefined,
    committed: (_writes, path, outcome) => paths.push(`${path}:${outcome}`),
  };
  return { paths, observer };
}

/**
 * Idempotency keys on both write paths of the group commit come from `message_keys`
 * (partitioned-log.ts, rule 2): a retry is answered after retention dropped the original event,
 * whether its batch goes to Postgres as one statement or through the locked path.
 */
describe('message keys through the write pipeline', () => {
  let db: TestDatabase;
  let seeded: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    await partitionPastDays(db, 6);
    // seq 4 of a session written six days ago: a message whose key the trigger recorded
    const history = await seedSessionHistory(db, [6], 3);
    seeded = history.sessionId;
    await withClient(db, async (c) => {
      await c.query(
        `insert into events (session_id, seq, type, data, client_message_id, created_at)
         values ($1, 4, 'message.user', '{"clientMessageId":"old","content":"héllo"}', 'old', $2)`,
        [seeded, history.events[2][1]],
      );
      await c.query(`update sessions set head_seq = 4, last_input_seq = 4 where id = $1`, [seeded]);
    });
    await runRetention(db.url, { applicationName: 'sessionwire-test', retentionDays: 3 });
  });
  afterAll(() => db.drop());

  it('drops the original event but keeps its key', async () => {
    expect(await db.store.getEventsAfter(seeded, 0, 10)).toEqual([]);
    const { rows } = await withClient(db, (c) =>
      c.query(`select seq from message_keys where session_id = $1`, [seeded]),
    );
    expect(rows).toEqual([{ seq: '4' }]);
  });

  it.each([
    ['one statement', false],
    ['the locked path (a transition in the same batch)', true],
  ])('answers the retry as a duplicate and refuses other content: %s', async (_name, locked) => {
    const { paths, observer } = recordingObserver();
    const writer = new SessionWriter(db.handle.db, { observer });
    const other = await db.store.createSession({ id: randomUUID(), agent: 'demo' });
    const [retry, conflict, again, fresh, transition] = await Promise.allSettled([
      writer.appendUserMessage(seeded, { clientMessageId: 'old', content: 'héllo' }),
      writer.appendUserMessage(seeded, { clientMessageId: 'old', content: 'hello' }),
      writer.appendUserMessage(seeded, { clientMessageId: 'old', content: 'héllo' }),
      writer.appendUserMessage(other.id, { clientMessageId: 'old', content: 'new here' }),
      locked
        ? writer.transition(other.id, 'CREATED', 'STARTING', 'test')
        : Promise.resolve(undefined),
    ]);
    expect(paths).toEqual([locked ? 'locked:ok' : 'statement:ok']);
    const original = {
      sessionId: seeded,
      seq: 4,
      type: 'message.user',
      data: { clientMessageId: 'old', content: 'héllo' },
    };
    expect(retry).toMatchObject({
      status: 'fulfilled',
      value: { duplicate: true, event: original },
    });
    expect(again).toMatchObject({
      status: 'fulfilled',
      value: { duplicate: true, event: original },
    });
    expect(conflict.status).toBe('rejected');
    expect((conflict as PromiseRejectedResult).reason).toBeInstanceOf(IdempotencyConflictError);
    // The same id in another session is another key.
    expect(fresh).toMatchObject({
      status: 'fulfilled',
      value: { duplicate: false, event: { seq: 2 } },
    });
    expect(transition.status).toBe('fulfilled');
    expect(await db.store.getHeadSeq(seeded)).toBe(4);
  });

  it('stores a new key once when it is sent twice in one batch, on the locked path', async () => {
    const writer = new SessionWriter(db.handle.db);
    const other = await db.store.createSession({ id: randomUUID(), agent: 'demo' });
    const [first, second] = await Promise.all([
      writer.appendUserMessage(seeded, { clientMessageId: 'twice', content: 'x' }),
      writer.appendUserMessage(seeded, { clientMessageId: 'twice', content: 'x' }),
      writer.transition(other.id, 'CREATED', 'STARTING', 'test'),
    ]);
    expect(first).toMatchObject({ duplicate: false, event: { seq: 5 } });
    expect(second).toMatchObject({
      duplicate: true,
      event: { seq: 5, createdAt: first.event.createdAt },
    });
    const { rows } = await withClient(db, (c) =>
      c.query(`select seq from message_keys where session_id = $1 order by seq`, [seeded]),
    );
    expect(rows).toEqual([{ seq: '4' }, { seq: '5' }]);
  });
});
