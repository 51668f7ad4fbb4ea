import { randomUUID } from 'node:crypto';
import { connectPglite, type DatabaseHandle } from './database';
import { IdempotencyConflictError, StaleLeaseError } from './errors';
import { EventStore } from './event-store';
import { LeaseStore } from './lease-store';
import { migratePglite } from './migrator';
import {
  listEventPartitions,
  maintainEventPartitions,
  type SqlClient,
} from './partition-maintenance';

/** The embedded database (`npm start`) is PGlite (Postgres 18): the same migrations and store. */
describe('EventStore on PGlite', () => {
  let handle: DatabaseHandle;
  let store: EventStore;
  let leases: LeaseStore;

  beforeAll(async () => {
    handle = await connectPglite({});
    await migratePglite(handle);
    await migratePglite(handle);
    store = new EventStore(handle.db);
    leases = new LeaseStore(store);
  });
  afterAll(() => handle.close());

  it('assigns gap-free seqs to concurrent appends', async () => {
    const session = await store.createSession({ id: randomUUID(), agent: 'demo' });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.append(session.id, [{ type: 'message.delta', data: { turnId: 't', text: `${i}` } }]),
      ),
    );
    const events = await store.getEventsAfter(session.id, 0, 100);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
  });

  it('deduplicates messages and detects conflicts', async () => {
    const session = await store.createSession({ id: randomUUID(), agent: 'demo' });
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        store.appendUserMessage(session.id, { clientMessageId: 'a', content: 'x' }),
      ),
    );
    expect(new Set(results.map((r) => r.event.seq))).toEqual(new Set([2]));
    await expect(
      store.appendUserMessage(session.id, { clientMessageId: 'a', content: 'y' }),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it('claims, fences and reads heads in one query', async () => {
    const session = await store.createSession({ id: randomUUID(), agent: 'demo' });
    await store.appendUserMessage(session.id, { clientMessageId: 'a', content: 'x' });
    const claim = (await leases.claim('w', 10_000, 10)).find((c) => c.session.id === session.id)!;
    expect(claim.session).toMatchObject({ id: session.id, state: 'STARTING', leaseEpoch: 1 });
    expect(await leases.renew('w', [{ sessionId: session.id, leaseEpoch: 1 }], 10_000)).toEqual(
      new Set([session.id]),
    );
    await leases.end(session.id);
    await expect(
      store.append(session.id, [{ type: 'message.delta', data: { turnId: 't', text: 'x' } }], {
        leaseEpoch: 1,
      }),
    ).rejects.toBeInstanceOf(StaleLeaseError);
    const heads = await store.getHeads([session.id]);
    expect(heads.get(session.id)).toMatchObject({ state: 'ENDED', activity: 'idle' });
  });

  it('partitions the log and maintains the partitions as on Postgres 15', async () => {
    const own = await connectPglite({});
    try {
      await migratePglite(own);
      const client = (own.db as unknown as { $client: SqlClient }).$client;
      await client.query(`set timezone = 'UTC'`);
      const ownStore = new EventStore(own.db);
      const session = await ownStore.createSession({ id: randomUUID(), agent: 'demo' });
      const names = (await listEventPartitions(client)).map((p) => p.name).sort();
      expect(names).toEqual(expect.arrayContaining(['events_default', 'events_legacy']));
      expect(names.filter((n) => /^events_p\d{8}$/.test(n))).toHaveLength(3);

      // ten days later, with one day of retention: the coming partitions appear, the rest go
      const later = new Date(Date.now() + 10 * 86_400_000);
      const result = await maintainEventPartitions(client, { now: later, retentionDays: 1 });
      expect(result.created).toHaveLength(3);
      expect(result.dropped).toEqual(expect.arrayContaining(['events_legacy']));
      expect(result.dropped).toHaveLength(4);
      expect(await ownStore.getEventsAfter(session.id, 0, 10)).toEqual([]);
      expect(await ownStore.getOldestSeq(session.id)).toBeUndefined();
      // appends go on (today has no partition any more: events_default takes them), gap-free
      const appended = await ownStore.append(session.id, [
        { type: 'message.delta', data: { turnId: 't', text: 'x' } },
      ]);
      expect(appended.map((e) => e.seq)).toEqual([2]);
      expect((await ownStore.getEventsAfter(session.id, 0, 10)).map((e) => e.seq)).toEqual([2]);
      // at `later` that row is ten days old too: events_default is swapped for an empty one
      const again = await maintainEventPartitions(client, { now: later, retentionDays: 1 });
      expect(again).toMatchObject({ created: [], dropped: ['events_default'] });
      expect(await ownStore.getEventsAfter(session.id, 0, 10)).toEqual([]);
      expect(await maintainEventPartitions(client, { now: later, retentionDays: 1 })).toMatchObject(
        { created: [], dropped: [] },
      );
    } finally {
      await own.close();
    }
  });
});
