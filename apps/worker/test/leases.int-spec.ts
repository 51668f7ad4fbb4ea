import { eq, sql } from 'drizzle-orm';
import { sessions } from '@sessionwire/events';
import { waitFor } from '../../../test/process';
import { deltasOf, WorkerHarness, type TestWorker } from './worker-harness';

const counter = async (
  metric: { get(): Promise<{ values: { value: number; labels: object }[] }> },
  labels: object = {},
) =>
  (await metric.get()).values
    .filter((v) =>
      Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val),
    )
    .reduce((sum, v) => sum + v.value, 0);

describe('worker leases', () => {
  let h: WorkerHarness;

  beforeAll(async () => {
    h = await WorkerHarness.create();
  });
  afterAll(() => h.close());

  async function expireLease(id: string) {
    await h.db.handle.db
      .update(sessions)
      .set({ leaseExpiresAt: sql`now() - interval '1 second'` as unknown as Date })
      .where(eq(sessions.id, id));
  }

  it('a worker whose lease was taken over cannot append, even when it tries', async () => {
    // Slow renewals and polls: the old owner only learns of the takeover by trying to write.
    const slow = await h.startWorker({
      LEASE_MS: '60000',
      WORKER_POLL_MS: '60000',
      WORKER_CONCURRENCY: '1',
    });
    const id = await h.createSession();
    await h.send(id, '/sleep 1500');
    const started = await h.waitForEvent(id, (e) => e.type === 'turn.started');
    const oldTurn = (started.data as { turnId: string }).turnId;
    await expireLease(id);
    const [detached] = (await h.db.leases.detachExpired(100)).filter((d) => d.session.id === id);
    expect(detached.events.map((e) => e.data)).toEqual([
      { turnId: oldTurn, stopReason: 'worker_lost' },
      { from: 'ACTIVE', to: 'DETACHED', reason: 'lease_expired' },
    ]);
    const taker = await h.startWorker();
    await h.send(id, 'after the takeover');
    await h.waitForTurns(id, 2);
    // the old owner's /sleep ends and it tries to append: refused, it lets the session go
    await waitFor(
      'the old owner to be refused and drop the session',
      async () =>
        (await counter(slow.metrics.appends, { outcome: 'refused' })) >= 1 &&
        (await counter(slow.metrics.leasesLost, { cause: 'append' })) >= 1 &&
        slow.service.held.get(id) === undefined,
      15_000,
    );
    expect(await counter(slow.metrics.appends, { outcome: 'refused' })).toBeGreaterThanOrEqual(1);
    expect(await counter(slow.metrics.leasesLost, { cause: 'append' })).toBe(1);
    expect(slow.service.held.get(id)).toBeUndefined();
    const events = await h.events(id);
    expect(deltasOf(events, oldTurn)).toBe('');
    expect(events.filter((e) => e.type === 'turn.completed').map((e) => e.data)).toEqual([
      { turnId: oldTurn, stopReason: 'worker_lost' },
      expect.objectContaining({ stopReason: 'end_turn' }),
    ]);
    expect(events.some((e) => e.type === 'message.completed' && e.data.text === 'slept')).toBe(
      false,
    );
    await Promise.all([slow.close(), taker.close()]);
  });

  it('keeps a lease alive by renewing it through a turn longer than the lease', async () => {
    const env = { LEASE_MS: '1000' };
    const [a, b] = await Promise.all([h.startWorker(env), h.startWorker(env)]);
    const id = await h.createSession();
    await h.send(id, '/sleep 3000');
    const events = await h.waitForTurns(id, 1, 10_000);
    expect(events.filter((e) => e.type === 'turn.completed').map((e) => e.data)).toEqual([
      expect.objectContaining({ stopReason: 'end_turn' }),
    ]);
    expect(events.find((e) => e.type === 'message.completed')!.data).toMatchObject({
      text: 'slept',
    });
    expect(events.some((e) => e.type === 'session.state' && e.data.to === 'DETACHED')).toBe(false);
    await Promise.all([a.close(), b.close()]);
  });

  it('releases an idle session to SUSPENDED and resumes it on the next message', async () => {
    const w = await h.startWorker({ IDLE_RELEASE_MS: '200' });
    const id = await h.createSession();
    await h.send(id, 'one');
    await h.waitForTurns(id, 1);
    await h.waitForEvent(id, (e) => e.type === 'session.state' && e.data.to === 'SUSPENDED');
    expect(await h.db.store.requireSession(id)).toMatchObject({ state: 'SUSPENDED', owner: null });
    await h.send(id, 'two');
    const events = await h.waitForTurns(id, 2);
    const states = events.filter((e) => e.type === 'session.state').map((e) => e.data.to);
    expect(states.slice(0, 5)).toEqual(['CREATED', 'STARTING', 'ACTIVE', 'SUSPENDED', 'STARTING']);
    expect(states[5]).toBe('ACTIVE');
    await w.close();
  });

  it('picks up input by polling when the work hint is lost', async () => {
    const w = await h.startWorker({ WORKER_POLL_MS: '100' });
    const id = await h.createSession();
    await h.db.store.appendUserMessage(id, { clientMessageId: 'no-hint', content: 'quiet' });
    const events = await h.waitForTurns(id, 1);
    expect(events.find((e) => e.type === 'message.completed')!.data).toMatchObject({
      text: 'You said: quiet',
    });
    // And while held and idle, the next unhinted message too.
    await h.db.store.appendUserMessage(id, { clientMessageId: 'no-hint-2', content: 'again' });
    await h.waitForTurns(id, 2);
    await w.close();
  });

  it('starting a worker does not touch sessions other workers hold', async () => {
    const a = await h.startWorker();
    const id = await h.createSession();
    await h.send(id, '/sleep 1000');
    await h.waitForEvent(id, (e) => e.type === 'turn.started');
    const before = await h.db.store.requireSession(id);
    const b: TestWorker = await h.startWorker();
    await new Promise((r) => setTimeout(r, 300));
    const during = await h.db.store.requireSession(id);
    expect(during).toMatchObject({ owner: a.config.workerId, leaseEpoch: before.leaseEpoch });
    expect(during.headSeq).toBe(before.headSeq);
    const events = await h.waitForTurns(id, 1);
    expect(events.at(-1)!.data).toMatchObject({ stopReason: 'end_turn' });
    await Promise.all([a.close(), b.close()]);
  });

  it('drains: lets a short turn finish, interrupts a long one, releases both', async () => {
    const w = await h.startWorker({ WORKER_DRAIN_MS: '1000' });
    const [short, long] = [await h.createSession(), await h.createSession()];
    await h.send(short, '/sleep 300');
    await h.send(long, '/sleep 20000');
    await h.send(long, 'queued behind the long turn');
    await Promise.all(
      [short, long].map((id) => h.waitForEvent(id, (e) => e.type === 'turn.started')),
    );
    const startedAt = Date.now();
    await w.service.drain();
    expect(Date.now() - startedAt).toBeLessThan(5000);
    const shortEvents = await h.events(short);
    expect(shortEvents.find((e) => e.type === 'turn.completed')!.data).toMatchObject({
      stopReason: 'end_turn',
    });
    const longEvents = await h.events(long);
    expect(longEvents.filter((e) => e.type === 'turn.completed').map((e) => e.data)).toEqual([
      expect.objectContaining({ stopReason: 'interrupted' }),
    ]);
    for (const id of [short, long]) {
      expect(await h.db.store.requireSession(id)).toMatchObject({
        state: 'SUSPENDED',
        owner: null,
      });
    }
    // The queued message was left for another worker, which answers it.
    const next = await h.startWorker();
    const events = await h.waitForTurns(long, 2);
    expect(events.filter((e) => e.type === 'message.completed').at(-1)!.data).toMatchObject({
      text: 'You said: queued behind the long turn',
    });
    await Promise.all([w.close(), next.close()]);
  });
});
