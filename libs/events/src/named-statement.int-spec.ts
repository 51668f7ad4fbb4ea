import { randomUUID } from 'node:crypto';
import type { StoredEvent } from '@sessionwire/transport/protocol';
import { createTestDatabase, type TestDatabase } from '../../../test/database';
import { connectPostgres } from './database';
import { EventStore } from './event-store';

interface Prepared {
  name: string;
  statement: string;
  generic_plans: string;
}

describe('named statements', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  /**
   * A session's life through one store on ONE pooled connection (so its prepared statements are
   * visible to `pg_prepared_statements`): messages, deltas, single and batched reads.
   */
  async function run(namedStatements: boolean) {
    const handle = connectPostgres({
      url: db.url,
      applicationName: 'sessionwire-named-test',
      max: 1,
      namedStatements,
    });
    try {
      const store = new EventStore(handle.db);
      const { id } = await store.createSession({ id: randomUUID(), agent: 'demo' });
      const read: StoredEvent[][] = [];
      for (let i = 0; i < 12; i++) {
        await store.appendUserMessage(id, { clientMessageId: `m${i}`, content: `hello ${i}` });
        await store.append(id, [{ type: 'message.delta', data: { turnId: 't', text: `${i}` } }]);
        read.push(await store.getEventsAfter(id, i, 3));
        read.push(...(await store.getEventsAfterMany([{ sessionId: id, afterSeq: i, limit: 2 }])));
      }
      const prepared = await handle.pool.query<Prepared>(
        'select name, statement, generic_plans from pg_prepared_statements order by name',
      );
      const strip = (events: StoredEvent[]) =>
        events.map(({ seq, type, data }) => [seq, type, data]);
      return { prepared: prepared.rows, read: read.map(strip) };
    } finally {
      await handle.close();
    }
  }

  it('prepares each hot statement once per connection and keeps a generic plan; off prepares none', async () => {
    const on = await run(true);
    expect(on.prepared.length).toBeGreaterThanOrEqual(3);
    for (const { name } of on.prepared) expect(name).toMatch(/^sw_[0-9a-f]{20}$/);
    // One statement per text, however often it ran (12 messages, 12 appends, 24 reads).
    expect(new Set(on.prepared.map((p) => p.statement)).size).toBe(on.prepared.length);
    const append = on.prepared.find((p) => p.statement.includes('with req as materialized'));
    expect(append).toBeDefined();
    // Planned once for all later runs: what the name is for.
    expect(Number(append!.generic_plans)).toBeGreaterThan(0);

    const off = await run(false);
    expect(off.prepared).toEqual([]);
    expect(off.read).toEqual(on.read);
  });
});
