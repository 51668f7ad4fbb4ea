import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { Client } from 'pg';
import type { NewEvent, StoredEvent } from '@sessionwire/transport/protocol';
import { createTestDatabase, type TestDatabase } from '../../../../test/database';
import { waitFor } from '../../../../test/process';
import { connectPostgres, type DatabaseHandle } from '../database';
import { StaleLeaseError } from '../errors';
import { EventStore } from '../event-store';
import { sessions } from '../schema';
import { applyEvents } from '../session-effects';
import { SessionWriter } from './session-writer';
import { CommitFailedError, InvalidEventError } from './write-errors';
import type { WriteObserver } from './write-pipeline';

const APP = 'sessionwire-group-commit-test';

/** Counts commits and their sizes. */
function recordingObserver() {
  const commits: { writes: number; path: string; outcome: string }[] = [];
  const observer: WriteObserver = {
    depth: () => undefined,
    waited: () => undefined,
    committed: (writes, path, outcome) => commits.push({ writes, path, outcome }),
  };
  return { commits, observer };
}

describe('group commit (SessionWriter)', () => {
  let db: TestDatabase;
  let handle: DatabaseHandle;
  let admin: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    handle = connectPostgres({ url: db.url, applicationName: APP, max: 4 });
    admin = new Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await handle.close();
    await db.drop();
  });

  const delta = (text: string): NewEvent => ({
    type: 'message.delta',
    data: { turnId: 't', text },
  });

  async function sessionsHeld(count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    for (const id of ids) await db.store.createSession({ id, agent: 'demo' });
    await db.handle.db
      .update(sessions)
      .set({ owner: 'w', leaseEpoch: 7, state: 'ACTIVE' })
      .where(sql`${sessions.id} = any(${sql.param(ids)}::uuid[])`);
    return ids;
  }

  it('gives 200 sessions appending concurrently gap-free seqs in submission order', async () => {
    const { commits, observer } = recordingObserver();
    const store = new EventStore(handle.db, new SessionWriter(handle.db, { observer }));
    const ids = await sessionsHeld(200);
    const rounds = 5;
    const appends: Promise<StoredEvent[]>[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const id of ids) {
        appends.push(store.append(id, [delta(`${round}a`), delta(`${round}b`)], { leaseEpoch: 7 }));
      }
    }
    const results = await Promise.all(appends);
    expect(results.every((events) => events.length === 2)).toBe(true);
    for (const id of ids) {
      const log = await store.getEventsAfter(id, 1, 1000);
      expect(log.map((e) => e.seq)).toEqual(Array.from({ length: rounds * 2 }, (_, i) => i + 2));
      const texts = log.map((e) => (e.data as { text: string }).text);
      expect(texts).toEqual(Array.from({ length: rounds }, (_, r) => [`${r}a`, `${r}b`]).flat());
      expect(await store.getHeadSeq(id)).toBe(1 + rounds * 2);
    }
    // They were batched: far fewer commits than appends.
    expect(commits.reduce((n, c) => n + c.writes, 0)).toBe(appends.length);
    expect(commits.length).toBeLessThan(appends.length / 10);
  });

  it('refuses the one append with a stale epoch in a batch and commits the other 199', async () => {
    const { commits, observer } = recordingObserver();
    const writer = new SessionWriter(handle.db, { observer });
    const ids = await sessionsHeld(200);
    const stale = ids[117];
    const outcomes = await Promise.allSettled(
      ids.map((id) => writer.append(id, [delta('x')], id === stale ? 6 : 7)),
    );
    expect(commits).toEqual([{ writes: 200, path: 'statement', outcome: 'ok' }]);
    outcomes.forEach((outcome, i) => {
      if (ids[i] === stale) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(StaleLeaseError);
      } else {
        expect(outcome).toMatchObject({ status: 'fulfilled', value: [{ seq: 2 }] });
      }
    });
    expect(await db.store.getHeadSeq(stale)).toBe(1);
  });

  it('stores one event for 20 concurrent retries of one clientMessageId inside batches', async () => {
    const { commits, observer } = recordingObserver();
    const writer = new SessionWriter(handle.db, { observer });
    const [id] = await sessionsHeld(1);
    const message = { clientMessageId: 'm-1', content: 'hello' };
    // Ten in the same tick (one batch), ten more while that batch is in flight (the next one).
    const first = Array.from({ length: 10 }, () => writer.appendUserMessage(id, message));
    await new Promise((r) => setImmediate(r));
    const second = Array.from({ length: 10 }, () => writer.appendUserMessage(id, message));
    const results = await Promise.all([...first, ...second]);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(results.map((r) => r.event.seq))).toEqual(new Set([2]));
    expect(results.every((r) => r.event.data.content === 'hello')).toBe(true);
    expect(commits.some((c) => c.writes >= 10)).toBe(true);
    const log = await db.store.getEventsAfter(id, 0, 100);
    expect(log.filter((e) => e.type === 'message.user')).toHaveLength(1);
    expect(await db.store.requireSession(id)).toMatchObject({
      lastInputSeq: 2,
      activity: 'running',
    });
  });

  async function pipelineBackend(): Promise<number> {
    let pid: number | undefined;
    await waitFor(
      'the batch to block on a row lock',
      async () => {
        const { rows } = await admin.query(
          `select pid from pg_stat_activity
           where application_name = $1 and datname = current_database() and wait_event_type = 'Lock'`,
          [APP],
        );
        pid = rows[0]?.pid;
        return pid !== undefined;
      },
      10_000,
      20,
    );
    return pid!;
  }

  it('answers a message another process stored while the batch waited for its row as a duplicate', async () => {
    const { commits, observer } = recordingObserver();
    const writer = new SessionWriter(handle.db, { observer });
    const [id, other] = await sessionsHeld(2);
    // Another API node holds the row: the batch's statement takes its snapshot, then waits.
    await admin.query('begin');
    await admin.query('select 1 from sessions where id = $1 for update', [id]);
    const raced = writer.appendUserMessage(id, { clientMessageId: 'raced', content: 'once' });
    const beside = writer.appendUserMessage(other, { clientMessageId: 'b', content: 'beside' });
    try {
      await pipelineBackend();
      // ... and stores the same message before it commits.
      const { rows } = await admin.query(
        `update sessions set head_seq = head_seq + 1, last_input_seq = head_seq + 1,
           activity = 'running' where id = $1 returning head_seq`,
        [id],
      );
      await admin.query(
        `insert into events (session_id, seq, type, data, client_message_id)
         values ($1, $2, 'message.user', $3, 'raced')`,
        [id, rows[0].head_seq, { clientMessageId: 'raced', content: 'once' }],
      );
    } finally {
      await admin.query('commit');
    }
    const [first, second] = await Promise.all([raced, beside]);
    expect(first).toMatchObject({ duplicate: true, event: { seq: 2, data: { content: 'once' } } });
    expect(second).toMatchObject({ duplicate: false, event: { seq: 2 } });
    // The statement failed on the key, wrote nothing; the batch went once through the locked path.
    expect(commits).toEqual([
      { writes: 2, path: 'statement', outcome: 'failed' },
      { writes: 2, path: 'locked', outcome: 'ok' },
    ]);
    const log = await db.store.getEventsAfter(id, 0, 100);
    expect(log.filter((e) => e.type === 'message.user')).toHaveLength(1);
    expect(await db.store.getHeadSeq(id)).toBe(2);
  });

  async function backendsWaitingForLocks(): Promise<number> {
    const { rows } = await admin.query(
      `select count(*)::int as n from pg_stat_activity
       where application_name = $1 and datname = current_database() and wait_event_type = 'Lock'`,
      [APP],
    );
    return rows[0].n;
  }

  it('commits other sessions while one session waits for its row, that session one commit at a time', async () => {
    const { commits, observer } = recordingObserver();
    const writer = new SessionWriter(handle.db, { observer, commitsMax: 2 });
    const [a, b, c] = await sessionsHeld(3);
    // Another process holds a's row: a's commit waits for it inside Postgres.
    await admin.query('begin');
    await admin.query('select 1 from sessions where id = $1 for update', [a]);
    let first: Promise<StoredEvent[]>;
    let second: Promise<StoredEvent[]>;
    try {
      first = writer.append(a, [delta('a1')], 7);
      await pipelineBackend();
      second = writer.append(a, [delta('a2')], 7);
      // b and c commit meanwhile, in the second slot, one after the other.
      await expect(writer.append(b, [delta('b1')], 7)).resolves.toMatchObject([{ seq: 2 }]);
      await expect(writer.append(c, [delta('c1')], 7)).resolves.toMatchObject([{ seq: 2 }]);
      // a2 did not go to Postgres beside a1: one backend waits, not two.
      expect(await backendsWaitingForLocks()).toBe(1);
    } finally {
      await admin.query('commit');
    }
    expect(await first).toMatchObject([{ seq: 2, data: { text: 'a1' } }]);
    expect(await second).toMatchObject([{ seq: 3, data: { text: 'a2' } }]);
    expect(commits).toEqual([
      { writes: 1, path: 'statement', outcome: 'ok' },
      { writes: 1, path: 'statement', outcome: 'ok' },
      { writes: 1, path: 'statement', outcome: 'ok' },
      { writes: 1, path: 'statement', outcome: 'ok' },
    ]);
    const log = await db.store.getEventsAfter(a, 1, 100);
    expect(log.map((e) => [e.seq, (e.data as { text: string }).text])).toEqual([
      [2, 'a1'],
      [3, 'a2'],
    ]);
  });

  it.each([
    ['one statement (row-neutral appends)', false],
    ['one transaction (a turn starts in the batch)', true],
  ])(
    'fails every caller of a commit whose backend is terminated mid-batch and writes none of it: %s',
    async (_name, locked) => {
      const writer = new SessionWriter(handle.db);
      const ids = await sessionsHeld(20);
      const input = await writer.appendUserMessage(ids[0], { clientMessageId: 'c', content: 'go' });
      const heads = await db.store.getHeads(ids);
      // Hold the events table: the batch blocks inside Postgres until it is terminated.
      await admin.query('begin');
      await admin.query('lock table events in exclusive mode');
      const writes = ids.map((id, i) =>
        writer.append(
          id,
          locked && i === 0
            ? [{ type: 'turn.started', data: { turnId: randomUUID(), inputSeq: input.event.seq } }]
            : [delta('lost')],
          7,
        ),
      );
      const settled = Promise.allSettled(writes);
      try {
        const pid = await pipelineBackend();
        await admin.query('select pg_terminate_backend($1)', [pid]);
      } finally {
        await admin.query('rollback');
      }
      const outcomes = await settled;
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(CommitFailedError);
      }
      expect(await db.store.getHeads(ids)).toEqual(heads);
      for (const id of ids) {
        const log = await db.store.getEventsAfter(id, 0, 100);
        expect(log.filter((e) => e.type !== 'session.state' && e.type !== 'message.user')).toEqual(
          [],
        );
      }
      // The pipeline goes on with a fresh connection.
      await expect(writer.append(ids[1], [delta('after')], 7)).resolves.toHaveLength(1);
    },
  );

  it('refuses a payload that breaks its schema before any SQL, and only that caller', async () => {
    const [id, other] = await sessionsHeld(2);
    const writer = new SessionWriter(handle.db);
    const queries = jest.spyOn(handle.db, 'execute');
    const transactions = jest.spyOn(handle.db, 'transaction');
    const bad: unknown[] = [
      { type: 'message.delta', data: { turnId: 't', text: 5 } },
      { type: 'message.delta', data: { text: 'no turn' } },
      { type: 'no.such.type', data: {} },
      { type: 'message.delta', data: { turnId: 't', text: 'nul \u0000 inside' } },
      { type: 'tool.result', data: { turnId: 't', callId: 'c', output: '\ud800', isError: false } },
      { type: 'turn.started', data: { turnId: 'not-a-uuid', inputSeq: 1 } },
    ];
    try {
      for (const event of bad) {
        await expect(writer.append(id, [delta('ok'), event as NewEvent], 7)).rejects.toBeInstanceOf(
          InvalidEventError,
        );
      }
      await expect(
        writer.appendUserMessage(id, { clientMessageId: 'x', content: 'a\u0000b' }),
      ).rejects.toBeInstanceOf(InvalidEventError);
      expect(queries).not.toHaveBeenCalled();
      expect(transactions).not.toHaveBeenCalled();
    } finally {
      queries.mockRestore();
      transactions.mockRestore();
    }
    const [refused, accepted] = await Promise.allSettled([
      writer.append(id, [{ type: 'message.delta', data: { turnId: 't', text: 7 } } as never], 7),
      writer.append(other, [delta('fine')], 7),
    ]);
    expect(refused.status).toBe('rejected');
    expect(accepted).toMatchObject({ status: 'fulfilled', value: [{ seq: 2 }] });
    expect(await db.store.getHeadSeq(id)).toBe(1);
    const [row] = await db.handle.db.select().from(sessions).where(eq(sessions.id, id));
    expect(row.headSeq).toBe(1);
  });

  it('moves the row as the effects table folds, on the one-statement and on the locked path', async () => {
    const { commits, observer } = recordingObserver();
    const writer = new SessionWriter(handle.db, { observer });
    const [a, b] = await sessionsHeld(2);
    const before = await db.store.requireSession(a);
    const messages = (id: string, n: number) =>
      Array.from({ length: n }, (_, i) =>
        writer.appendUserMessage(id, { clientMessageId: `k${i}`, content: `m${i}` }),
      );
    // a: messages and deltas only (one statement); b: the same with a transition (locked path).
    await Promise.all([...messages(a, 3), writer.append(a, [delta('x')], 7)]);
    await Promise.all([
      ...messages(b, 3),
      writer.append(b, [delta('x')], 7),
      writer.transition(b, 'ACTIVE', 'SUSPENDED', 'test', 7),
    ]);
    expect(commits.map((c) => c.path)).toEqual(['statement', 'locked']);
    const folded = (extra: NewEvent[]) =>
      applyEvents({ ...before, state: 'ACTIVE' }, [
        ...[0, 1, 2].map((i): NewEvent => ({
          type: 'message.user',
          data: { clientMessageId: `k${i}`, content: `m${i}` },
        })),
        delta('x'),
        ...extra,
      ]);
    const pick = (row: {
      headSeq: number;
      lastInputSeq: number;
      processedSeq: number;
      activity: string;
      state: string;
    }) => ({
      headSeq: row.headSeq,
      lastInputSeq: row.lastInputSeq,
      processedSeq: row.processedSeq,
      activity: row.activity,
      state: row.state,
    });
    expect(pick(await db.store.requireSession(a))).toEqual(pick(folded([])));
    expect(pick(await db.store.requireSession(b))).toEqual(
      pick(
        folded([
          { type: 'session.state', data: { from: 'ACTIVE', to: 'SUSPENDED', reason: 'test' } },
        ]),
      ),
    );
  });
});
