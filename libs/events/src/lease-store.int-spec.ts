import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from '../../../test/database';
import { StaleLeaseError } from './errors';
import { LeaseStore } from './lease-store';
import { sessions } from './schema';

describe(LeaseStore.name, () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  async function sessionWithInput() {
    const session = await db.store.createSession({ id: randomUUID(), agent: 'demo' });
    await db.store.appendUserMessage(session.id, { clientMessageId: 'm', content: 'hi' });
    return session.id;
  }

  async function expireLease(id: string) {
    await db.handle.db
      .update(sessions)
      .set({ leaseExpiresAt: sql`now() - interval '1 second'` as unknown as Date })
      .where(eq(sessions.id, id));
  }

  it('claims only sessions with pending input, once', async () => {
    const idle = await db.store.createSession({ id: randomUUID(), agent: 'demo' });
    const pending = await sessionWithInput();
    const [first, second] = await Promise.all([
      db.leases.claim('w1', 10_000, 100),
      db.leases.claim('w2', 10_000, 100),
    ]);
    const claimed = [...first, ...second].map((c) => c.session.id);
    expect(claimed.filter((id) => id === pending)).toHaveLength(1);
    expect(claimed).not.toContain(idle.id);
    const row = await db.store.requireSession(pending);
    expect(row).toMatchObject({ state: 'STARTING', leaseEpoch: 1 });
  });

  it('does not renew a lease that expired, even before anyone detached it', async () => {
    const live = await sessionWithInput();
    const lapsed = await sessionWithInput();
    const claims = (await db.leases.claim('w-exp', 10_000, 100)).filter((c) =>
      [live, lapsed].includes(c.session.id),
    );
    expect(claims).toHaveLength(2);
    await expireLease(lapsed);
    const leases = claims.map((c) => ({
      sessionId: c.session.id,
      leaseEpoch: c.session.leaseEpoch,
    }));
    const held = await db.leases.renew('w-exp', leases, 10_000);
    expect([...held]).toEqual([live]);
    const detached = await db.leases.detachExpired(100);
    expect(detached.map((d) => d.session.id)).toContain(lapsed);
  });

  it('refuses appends and transitions with a stale epoch', async () => {
    const id = await sessionWithInput();
    const [claim] = (await db.leases.claim('w1', 10_000, 100)).filter((c) => c.session.id === id);
    const epoch = claim.session.leaseEpoch;
    await db.store.transition(id, 'STARTING', 'ACTIVE', 'started', { leaseEpoch: epoch });
    await expireLease(id);
    const detached = await db.leases.detachExpired(100);
    expect(detached.map((d) => d.session.id)).toContain(id);
    const head = await db.store.getHeadSeq(id);
    await expect(
      db.store.append(id, [{ type: 'message.delta', data: { turnId: 't', text: 'late' } }], {
        leaseEpoch: epoch,
      }),
    ).rejects.toBeInstanceOf(StaleLeaseError);
    await expect(
      db.store.transition(id, 'DETACHED', 'STARTING', 'late', { leaseEpoch: epoch }),
    ).rejects.toBeInstanceOf(StaleLeaseError);
    expect(await db.store.getHeadSeq(id)).toBe(head);
  });

  it('closes the open turn as worker_lost when the lease expires', async () => {
    const id = await sessionWithInput();
    const [claim] = (await db.leases.claim('w1', 10_000, 100)).filter((c) => c.session.id === id);
    const leaseEpoch = claim.session.leaseEpoch;
    await db.store.transition(id, 'STARTING', 'ACTIVE', 'started', { leaseEpoch });
    const turnId = randomUUID();
    await db.store.append(id, [{ type: 'turn.started', data: { turnId, inputSeq: 2 } }], {
      leaseEpoch,
    });
    await expireLease(id);
    const [change] = (await db.leases.detachExpired(100)).filter((d) => d.session.id === id);
    expect(change.events.map((e) => [e.type, e.data])).toEqual([
      ['turn.completed', { turnId, stopReason: 'worker_lost' }],
      ['session.state', { from: 'ACTIVE', to: 'DETACHED', reason: 'lease_expired' }],
    ]);
    expect(await db.store.requireSession(id)).toMatchObject({
      state: 'DETACHED',
      owner: null,
      processedSeq: 2,
      activity: 'idle',
    });
  });

  it('renews held leases and reports lost ones', async () => {
    const id = await sessionWithInput();
    const [claim] = (await db.leases.claim('w9', 10_000, 100)).filter((c) => c.session.id === id);
    const lease = { sessionId: id, leaseEpoch: claim.session.leaseEpoch };
    expect(await db.leases.renew('w9', [lease], 10_000)).toEqual(new Set([id]));
    expect(await db.leases.renew('w9', [{ ...lease, leaseEpoch: 0 }], 10_000)).toEqual(new Set());
    expect(await db.leases.renew('other', [lease], 10_000)).toEqual(new Set());
  });

  it('ends a session with a running turn in one step, and ending twice changes nothing', async () => {
    const id = await sessionWithInput();
    const [claim] = (await db.leases.claim('w1', 10_000, 100)).filter((c) => c.session.id === id);
    const leaseEpoch = claim.session.leaseEpoch;
    await db.store.transition(id, 'STARTING', 'ACTIVE', 'started', { leaseEpoch });
    const turnId = randomUUID();
    await db.store.append(id, [{ type: 'turn.started', data: { turnId, inputSeq: 2 } }], {
      leaseEpoch,
    });
    const ended = await db.leases.end(id);
    expect(ended.events.map((e) => e.type)).toEqual(['turn.completed', 'session.state']);
    expect(ended.session).toMatchObject({ state: 'ENDED', activity: 'idle' });
    const again = await db.leases.end(id);
    expect(again.events).toEqual([]);
    await expect(
      db.store.append(id, [{ type: 'message.delta', data: { turnId, text: 'x' } }], { leaseEpoch }),
    ).rejects.toBeInstanceOf(StaleLeaseError);
  });
});
