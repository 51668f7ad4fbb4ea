import { EventStore } from '@sessionwire/events';
import { v7 as uuidv7 } from 'uuid';
import { WorkerHarness, type TestWorker } from './worker-harness';

describe('worker: input closed by someone else before its turn started', () => {
  let h: WorkerHarness;
  let worker: TestWorker;

  beforeAll(async () => {
    h = await WorkerHarness.create();
    // A long lease and slow polls: a session given up would stay stuck for the whole test.
    worker = await h.startWorker({ LEASE_MS: '60000', WORKER_POLL_MS: '60000' });
  });
  afterAll(() => h.close());

  it('goes on with the next input, keeping its lease, when a stop closed the one it read', async () => {
    const id = await h.createSession();
    const store = worker.app.get(EventStore);
    const read = store.getNextInput.bind(store);
    let closedSeq: number | undefined;
    // The API's stop of a waiting message (turn.started + turn.completed `interrupted`, without a
    // lease) lands between the worker's read of the input and its own turn.started.
    jest.spyOn(store, 'getNextInput').mockImplementation(async (sessionId, afterSeq) => {
      const input = await read(sessionId, afterSeq);
      if (input && sessionId === id && closedSeq === undefined) {
        closedSeq = input.seq;
        const turnId = uuidv7();
        await h.db.store.append(id, [
          { type: 'turn.started', data: { turnId, inputSeq: input.seq } },
          { type: 'turn.completed', data: { turnId, stopReason: 'interrupted' } },
        ]);
      }
      return input;
    });

    const first = await h.send(id, 'stopped before it ran');
    await h.waitForEvent(id, (e) => e.type === 'turn.completed');
    expect(closedSeq).toBe(first);
    const heldEpoch = (await h.db.store.requireSession(id)).leaseEpoch;

    const second = await h.send(id, 'and the next one');
    const events = await h.waitForTurns(id, 2);
    const started = events.filter((e) => e.type === 'turn.started');
    expect(started.map((e) => (e.data as { inputSeq: number }).inputSeq)).toEqual([first, second]);
    const completed = events.filter((e) => e.type === 'turn.completed');
    expect(completed.map((e) => (e.data as { stopReason: string }).stopReason)).toEqual([
      'interrupted',
      'end_turn',
    ]);
    expect(events.some((e) => e.type === 'agent.error')).toBe(false);
    const row = await h.db.store.requireSession(id);
    expect(row).toMatchObject({
      state: 'ACTIVE',
      owner: worker.config.workerId,
      leaseEpoch: heldEpoch,
      processedSeq: second,
    });
    expect(worker.service.held.get(id)).toBeDefined();
    expect((await worker.metrics.leasesLost.get()).values.every((v) => v.value === 0)).toBe(true);
  });
});
