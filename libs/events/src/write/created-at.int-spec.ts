import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { NewEvent } from '@sessionwire/transport/protocol';
import { createTestDatabase, type TestDatabase } from '../../../../test/database';
import { SessionWriter } from './session-writer';
import type { WriteObserver } from './write-pipeline';

/**
 * The created_at rule (partitioned-log.ts, rule 1) inside group-committed batches of many
 * sessions, on both write paths: every event of a session's append gets
 * `greatest(clock_timestamp(), last_event_at)` of its row, decided under the row lock, and the row
 * keeps it, to the microsecond.
 */
describe('created_at of group-committed writes', () => {
  let db: TestDatabase;
  let admin: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await db.drop();
  });

  const delta = (text: string): NewEvent => ({
    type: 'message.delta',
    data: { turnId: 't', text },
  });

  async function sessions(count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    for (const id of ids) await db.store.createSession({ id, agent: 'demo' });
    return ids;
  }

  /** Moves `last_event_at` a day ahead, as if the clock had since gone back; returns it as text. */
  async function clockWentBack(id: string): Promise<string> {
    const { rows } = await admin.query(
      `update sessions set last_event_at = clock_timestamp() + interval '1 day' where id = $1
       returning last_event_at::text as at`,
      [id],
    );
    return rows[0].at as string;
  }

  async function log(id: string): Promise<{ seq: number; at: string }[]> {
    const { rows } = await admin.query(
      `select seq, created_at::text as at from events where session_id = $1 order by seq`,
      [id],
    );
    return rows.map((r) => ({ seq: Number(r.seq), at: r.at as string }));
  }

  /** Events whose created_at is before the previous event's. */
  async function backwards(id: string): Promise<number> {
    const { rows } = await admin.query(
      `select count(*)::int as n from (
         select created_at, lag(created_at) over (order by seq) as previous
         from events where session_id = $1) e
       where created_at < previous`,
      [id],
    );
    return rows[0].n as number;
  }

  async function lastEventAt(id: string): Promise<string> {
    const { rows } = await admin.query(
      `select last_event_at::text as at from sessions where id = $1`,
      [id],
    );
    return rows[0].at as string;
  }

  function recorder() {
    const paths: string[] = [];
    const observer: WriteObserver = {
      depth: () => undefined,
      waited: () => undefined,
      committed: (_writes, path) => paths.push(path),
    };
    return { paths, observer };
  }

  it('gives a new session and its first event one created_at', async () => {
    const [id] = await sessions(1);
    const [first] = await log(id);
    expect(first.at).toBe(await lastEventAt(id));
  });

  it.each([
    ['one statement (deltas and messages)', 'statement'],
    ['the locked path (a transition in the batch)', 'locked'],
  ])('keeps it per session in a batch of many: %s', async (_name, path) => {
    const { paths, observer } = recorder();
    const writer = new SessionWriter(db.handle.db, { observer });
    const ids = await sessions(6);
    const ahead = new Map<string, string>();
    for (const id of ids.slice(0, 3)) ahead.set(id, await clockWentBack(id));
    const before = new Map(await Promise.all(ids.map(async (id) => [id, await log(id)] as const)));
    await Promise.all(
      ids.flatMap((id, i) => [
        writer.append(id, [delta('a'), delta('b')]),
        writer.appendUserMessage(id, { clientMessageId: `m${i}`, content: 'hi' }),
        ...(path === 'locked' && i === 5
          ? [writer.transition(id, 'CREATED', 'STARTING', 't')]
          : []),
      ]),
    );
    expect(paths).toEqual([path]);
    for (const id of ids) {
      const events = await log(id);
      const written = events.slice(before.get(id)!.length);
      expect(written.length).toBeGreaterThanOrEqual(3);
      // One append: one created_at, the row's, never before the previous event.
      const stamp = await lastEventAt(id);
      expect(new Set(written.map((e) => e.at))).toEqual(new Set([stamp]));
      if (ahead.has(id)) expect(stamp).toBe(ahead.get(id));
      expect(await backwards(id)).toBe(0);
    }
  });
});
