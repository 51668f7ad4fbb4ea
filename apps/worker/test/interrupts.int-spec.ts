import { deltasOf, WorkerHarness, type TestWorker } from './worker-harness';

describe('worker interrupts', () => {
  let h: WorkerHarness;
  let worker: TestWorker;

  beforeAll(async () => {
    h = await WorkerHarness.create();
    worker = await h.startWorker();
  });
  afterAll(() => h.close());

  const turnStarted = (id: string) => h.waitForEvent(id, (e) => e.type === 'turn.started');

  it('closes a /sleep 10000 turn as interrupted well within a second', async () => {
    const id = await h.createSession();
    await h.send(id, '/sleep 10000');
    const started = await turnStarted(id);
    const startedAt = performance.now();
    const turnId = await h.interrupt(id);
    expect(turnId).toBe((started.data as { turnId: string }).turnId);
    const completed = await h.waitForEvent(id, (e) => e.type === 'turn.completed', 5_000);
    const elapsed = performance.now() - startedAt;
    process.stdout.write(`interrupt → turn.completed: ${elapsed.toFixed(0)} ms\n`);
    expect(completed.data).toEqual({ turnId, stopReason: 'interrupted' });
    expect(elapsed).toBeLessThan(1000);
    const events = await h.events(id);
    expect(events.some((e) => e.type === 'message.completed')).toBe(false);
    expect(events.find((e) => e.type === 'interrupt.requested')!.seq).toBeLessThan(completed.seq);
    expect(await h.db.store.requireSession(id)).toMatchObject({ activity: 'idle', turnId: null });
  });

  it('notices interrupt.requested by polling when the hint is lost', async () => {
    const id = await h.createSession();
    await h.send(id, '/sleep 10000');
    await turnStarted(id);
    // Only the log records it; no WorkHint is published.
    await h.db.store.requestInterrupt(id);
    const completed = await h.waitForEvent(id, (e) => e.type === 'turn.completed', 5_000);
    expect(completed.data).toMatchObject({ stopReason: 'interrupted' });
  });

  it('survives an agent whose interrupt() throws and answers the next message', async () => {
    const id = await h.createSession();
    await h.send(id, '/interrupt-fails 10000');
    const started = await turnStarted(id);
    const turnId = (started.data as { turnId: string }).turnId;
    const startedAt = performance.now();
    await h.interrupt(id);
    const completed = await h.waitForEvent(id, (e) => e.type === 'turn.completed', 5_000);
    expect(performance.now() - startedAt).toBeLessThan(2000);
    expect(completed.data).toEqual({ turnId, stopReason: 'interrupted' });
    await h.send(id, 'are you alive?');
    const events = await h.waitForTurns(id, 2);
    const error = events.find((e) => e.type === 'agent.error')!;
    expect(error.data).toMatchObject({ code: 'interrupt_failed', turnId });
    expect(error.seq).toBeLessThan(completed.seq);
    const last = events.filter((e) => e.type === 'turn.completed')[1];
    expect(last.data).toMatchObject({ stopReason: 'end_turn' });
    expect(deltasOf(events, (last.data as { turnId: string }).turnId)).toBe(
      'You said: are you alive?',
    );
    expect(deltasOf(events, turnId)).toBe('');
    expect(worker.service.isDraining).toBe(false);
  });

  it('stops writing at once when the session is ended during a turn', async () => {
    const id = await h.createSession();
    await h.send(id, '/stream 100000 5');
    await h.waitForEvent(id, (e) => e.type === 'message.delta');
    await h.end(id);
    const endedHead = await h.db.store.getHeadSeq(id);
    await new Promise((r) => setTimeout(r, 300));
    const events = await h.events(id);
    expect(events.at(-1)!.seq).toBe(endedHead);
    expect(events.at(-1)!.data).toMatchObject({ to: 'ENDED' });
    expect(events.filter((e) => e.type === 'turn.completed').map((e) => e.data)).toEqual([
      expect.objectContaining({ stopReason: 'interrupted' }),
    ]);
    await expect(h.send(id, 'too late')).rejects.toMatchObject({ code: 'session_ended' });
  });

  it('ignores an interrupt for a turn that is not running', async () => {
    const id = await h.createSession();
    await h.send(id, 'first');
    const [done] = (await h.waitForTurns(id, 1)).filter((e) => e.type === 'turn.completed');
    await h.hint({
      kind: 'interrupt',
      sessionId: id,
      turnId: (done.data as { turnId: string }).turnId,
    });
    await h.send(id, 'second');
    const events = await h.waitForTurns(id, 2);
    expect(events.filter((e) => e.type === 'turn.completed').map((e) => e.data)).toEqual([
      expect.objectContaining({ stopReason: 'end_turn' }),
      expect.objectContaining({ stopReason: 'end_turn' }),
    ]);
  });
});
