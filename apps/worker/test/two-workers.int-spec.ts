import type { StoredEvent } from '@sessionwire/transport/protocol';
import { WorkerHarness } from './worker-harness';

describe('two workers', () => {
  let h: WorkerHarness;

  beforeAll(async () => {
    h = await WorkerHarness.create();
  });
  afterAll(() => h.close());

  it('answer every message of 200 sessions exactly once, in order', async () => {
    const env = { WORKER_CONCURRENCY: '50', IDLE_RELEASE_MS: '100', WORKER_POLL_MS: '200' };
    const [a, b] = await Promise.all([h.startWorker(env), h.startWorker(env)]);
    const ids = await Promise.all(Array.from({ length: 200 }, () => h.createSession()));
    const inputs = new Map<string, number[]>();
    await Promise.all(
      ids.map(async (id, i) => {
        inputs.set(id, [await h.send(id, `first ${i}`), await h.send(id, `second ${i}`)]);
      }),
    );
    for (const id of ids) await h.waitForTurns(id, 2, 60_000);
    // Let any duplicate a racing worker might produce show up before checking.
    await new Promise((r) => setTimeout(r, 500));
    for (const [i, id] of ids.entries()) {
      const events = await h.events(id);
      const of = (type: StoredEvent['type']) => events.filter((e) => e.type === type);
      expect(of('turn.started').map((e) => (e.data as { inputSeq: number }).inputSeq)).toEqual(
        inputs.get(id),
      );
      expect(
        of('turn.completed').map((e) => (e.data as { stopReason: string }).stopReason),
      ).toEqual(['end_turn', 'end_turn']);
      expect(of('message.completed').map((e) => (e.data as { text: string }).text)).toEqual([
        `You said: first ${i}`,
        `You said: second ${i}`,
      ]);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, k) => k + 1));
    }
    const claimed = async (w: typeof a) =>
      (await w.metrics.leasesClaimed.get()).values.reduce((sum, v) => sum + v.value, 0);
    expect(await claimed(a)).toBeGreaterThan(0);
    expect(await claimed(b)).toBeGreaterThan(0);
    await Promise.all([a.close(), b.close()]);
  }, 90_000);
});
