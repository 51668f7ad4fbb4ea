import { eq } from 'drizzle-orm';
import { sessions } from '@sessionwire/events';
import { TcpCut } from '../../../test/tcp-cut';
import { waitFor } from '../../../test/process';
import { deltasOf, WorkerHarness } from './worker-harness';

const tokens = (n: number) => Array.from({ length: n }, (_, i) => `t${i} `).join('');
const gauge = async (metric: { get(): Promise<{ values: { value: number }[] }> }) =>
  (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);

// A worker whose Postgres goes away mid-turn (the line to it is cut; the test's own connections
// and Postgres itself stay up, so the log can be read and other workers' leases swept meanwhile).
describe('worker with Postgres unreachable', () => {
  let h: WorkerHarness;
  let line: { cut: TcpCut; url: string };

  beforeAll(async () => {
    h = await WorkerHarness.create();
    line = await TcpCut.around(h.db.url);
  });
  afterAll(async () => {
    await h.close();
    await line.cut.close();
  });
  afterEach(() => line.cut.restore());

  it('goes on with the turn, in order and gap-free, when Postgres is back within the lease', async () => {
    const worker = await h.startWorker({ LEASE_MS: '4000' }, undefined, line.url);
    const id = await h.createSession();
    await h.send(id, '/stream 100 20');
    await h.waitForEvent(id, (e) => e.type === 'message.delta');
    line.cut.cut();
    await waitFor('the worker to notice', () => worker.service.health.state.database === 'down');
    expect(await gauge(worker.metrics.databaseUp)).toBe(0);
    await new Promise((r) => setTimeout(r, 800));
    line.cut.restore();

    const events = await h.waitForTurns(id, 1, 15_000);
    const turnId = (events.find((e) => e.type === 'turn.started')!.data as { turnId: string })
      .turnId;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'turn.completed').map((e) => e.data)).toEqual([
      { turnId, stopReason: 'end_turn' },
    ]);
    expect(deltasOf(events, turnId)).toBe(tokens(100));
    expect(events.find((e) => e.type === 'message.completed')!.data).toEqual({
      turnId,
      text: tokens(100),
    });
    expect(await gauge(worker.metrics.writeRetries)).toBeGreaterThan(0);
    await waitFor(
      'the worker to see Postgres again',
      () => worker.service.health.state.database === 'up',
    );
    expect(await gauge(worker.metrics.databaseUp)).toBe(1);
    await worker.close();
  });

  it('gives the session up for good when Postgres stays away past the lease', async () => {
    const worker = await h.startWorker({ LEASE_MS: '1000' }, undefined, line.url);
    const id = await h.createSession();
    await h.send(id, '/stream 200 20');
    await h.waitForEvent(id, (e) => e.type === 'message.delta');
    line.cut.cut();
    await waitFor(
      'the worker to give the session up',
      () => worker.service.held.get(id) === undefined,
      10_000,
    );
    // Its lease lapsed: a sweep (here the test's, the worker cannot reach Postgres) closes the turn.
    await waitFor('the lapsed lease detached', async () => {
      const detached = await h.db.leases.detachExpired(100);
      return detached.some((d) => d.session.id === id);
    });
    line.cut.restore();
    await waitFor(
      'the worker to see Postgres again',
      () => worker.service.health.state.database === 'up',
      10_000,
    );

    const [row] = await h.db.handle.db.select().from(sessions).where(eq(sessions.id, id));
    expect(row).toMatchObject({ state: 'DETACHED', owner: null });
    const events = await h.events(id);
    expect(events.filter((e) => e.type === 'turn.completed').map((e) => e.data)).toEqual([
      expect.objectContaining({ stopReason: 'worker_lost' }),
    ]);
    // nothing of the given-up turn is written after it was closed
    const closedAt = events.find((e) => e.type === 'turn.completed')!.seq;
    expect(events.filter((e) => e.seq > closedAt).map((e) => e.type)).toEqual(['session.state']);

    await h.send(id, 'are you back?');
    const after = await h.waitForTurns(id, 2, 10_000);
    expect(after.filter((e) => e.type === 'turn.completed').at(-1)!.data).toMatchObject({
      stopReason: 'end_turn',
    });
    await worker.close();
  });
});
