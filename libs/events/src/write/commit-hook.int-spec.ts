import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Client } from 'pg';
import type { NewEvent, StoredEvent } from '@sessionwire/transport/protocol';
import { createTestDatabase, type TestDatabase } from '../../../../test/database';
import { waitFor } from '../../../../test/process';
import { connectPostgres, type DatabaseHandle } from '../database';
import { sessions } from '../schema';
import { SessionWriter } from './session-writer';

const APP = 'sessionwire-hook-test';

describe('SessionWriter onCommitted', () => {
  let db: TestDatabase;
  let handle: DatabaseHandle;
  let observer: Client;
  let admin: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    handle = connectPostgres({ url: db.url, applicationName: APP, max: 4 });
    observer = new Client({ connectionString: db.url });
    admin = new Client({ connectionString: db.url });
    await Promise.all([observer.connect(), admin.connect()]);
  });
  afterAll(async () => {
    await Promise.all([observer.end(), admin.end()]);
    await handle.close();
    await db.drop();
  });

  const delta = (text: string): NewEvent => ({
    type: 'message.delta',
    data: { turnId: 't', text },
  });

  it('hands every committed event to the hook exactly once, after commit, never a failed one', async () => {
    const handed: StoredEvent[] = [];
    const notYetVisible: string[] = [];
    const writer = new SessionWriter(handle.db, {
      onCommitted: async (events) => {
        // After commit: another connection already sees every event the hook is handed.
        const { rows } = await observer.query(
          `select count(*)::int as n from events e
           join unnest($1::uuid[], $2::bigint[]) as x(s, q) on e.session_id = x.s and e.seq = x.q`,
          [events.map((e) => e.sessionId), events.map((e) => e.seq)],
        );
        if (rows[0].n !== events.length) notYetVisible.push(`${events.length - rows[0].n} events`);
        handed.push(...events);
      },
    });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++)
      ids.push((await writer.createSession({ id: randomUUID(), agent: 'demo' })).id);
    await db.handle.db
      .update(sessions)
      .set({ owner: 'w', leaseEpoch: 3, state: 'ACTIVE' })
      .where(sql`${sessions.id} = any(${sql.param(ids)}::uuid[])`);

    // Many writes of every kind, some refused (stale epoch, ended, bad payload), in batches.
    const writes: Promise<unknown>[] = [];
    for (let round = 0; round < 4; round++) {
      ids.forEach((id, i) => {
        writes.push(writer.append(id, [delta(`${round}`)], i % 7 === 0 ? 2 : 3));
        if (i % 5 === 0)
          writes.push(
            writer.appendUserMessage(id, { clientMessageId: `m${round % 2}`, content: 'hi' }),
          );
        if (i % 11 === 0)
          writes.push(writer.append(id, [{ type: 'tool.call', data: {} } as never], 3));
      });
      if (round === 2) writes.push(writer.end(ids[1], 'ended_by_user'));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.allSettled(writes);

    // A commit that fails: its events are never handed over.
    await admin.query('begin');
    await admin.query('lock table events in exclusive mode');
    const failing = Promise.allSettled(
      ids.slice(2, 12).map((id) => writer.append(id, [delta('lost')], 3)),
    );
    try {
      await waitFor(
        'the blocked batch to be terminated',
        async () => {
          const { rows } = await admin.query(
            `select pg_terminate_backend(pid) as ok from pg_stat_activity
             where application_name = $1 and wait_event_type = 'Lock'`,
            [APP],
          );
          return rows.length > 0;
        },
        10_000,
        20,
      );
    } finally {
      await admin.query('rollback');
    }
    expect((await failing).every((o) => o.status === 'rejected')).toBe(true);

    const logged = (
      await db.store.getEventsAfterMany(
        ids.map((sessionId) => ({ sessionId, afterSeq: 0, limit: 1000 })),
      )
    ).flat();
    const key = (e: StoredEvent) => `${e.sessionId}:${e.seq}`;
    expect(notYetVisible).toEqual([]);
    expect(handed.map(key).sort()).toEqual(logged.map(key).sort());
    expect(new Set(handed.map(key)).size).toBe(handed.length);
    expect(
      handed.filter(
        (e) => e.type === 'message.delta' && (e.data as { text: string }).text === 'lost',
      ),
    ).toEqual([]);
    expect(handed.some((e) => e.type === 'session.state' && e.data.to === 'ENDED')).toBe(true);
  });
});
