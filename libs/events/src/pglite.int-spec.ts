import { randomUUID } from 'node:crypto';
import { connectPglite, type DatabaseHandle } from './database';
import { IdempotencyConflictError, StaleLeaseError } from './errors';
import { EventStore } from './event-store';
import { LeaseStore } from './lease-store';
import { migratePglite } from './migrator';

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
});
