import type { StoredEvent } from '@sessionwire/transport/protocol';
import { deltasOf, WorkerHarness } from './worker-harness';

const types = (events: StoredEvent[]) => events.map((e) => e.type);

describe('worker turns', () => {
  let h: WorkerHarness;

  beforeAll(async () => {
    h = await WorkerHarness.create();
    await h.startWorker(
      {},
      {
        agents: {
          // Not async: its throw is synchronous, outside any promise.
          'sync-throw': () => ({
            run: () => {
              throw new Error('synchronous failure');
            },
            interrupt: () => undefined,
          }),
        },
      },
    );
  });
  afterAll(() => h.close());

  it('answers a message with turn.started, deltas, message.completed and turn.completed in order', async () => {
    const id = await h.createSession();
    const inputSeq = await h.send(id, 'hello there, worker');
    const events = await h.waitForTurns(id, 1);
    const turn = events.filter((e) => e.seq > inputSeq && e.type !== 'session.state');
    const started = turn[0];
    expect(started).toMatchObject({ type: 'turn.started', data: { inputSeq } });
    const turnId = (started.data as { turnId: string }).turnId;
    expect(turnId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    const kinds = types(turn);
    expect(kinds.slice(-2)).toEqual(['message.completed', 'turn.completed']);
    expect(kinds.slice(1, -2).every((t) => t === 'message.delta')).toBe(true);
    expect(kinds.slice(1, -2).length).toBeGreaterThan(0);
    expect(turn.at(-2)!.data).toEqual({ turnId, text: 'You said: hello there, worker' });
    expect(deltasOf(events, turnId)).toBe('You said: hello there, worker');
    expect(turn.at(-1)!.data).toEqual({ turnId, stopReason: 'end_turn' });
    const row = await h.db.store.requireSession(id);
    expect(row).toMatchObject({ state: 'ACTIVE', activity: 'idle', processedSeq: inputSeq });
  });

  it('goes through STARTING to ACTIVE with one claim', async () => {
    const id = await h.createSession();
    await h.send(id, 'hi');
    const events = await h.waitForTurns(id, 1);
    const states = events
      .filter((e) => e.type === 'session.state')
      .map((e) => (e.data as { to: string }).to);
    expect(states).toEqual(['CREATED', 'STARTING', 'ACTIVE']);
  });

  it('coalesces a /stream 5000 0 turn into far fewer than 5000 rows with the exact text', async () => {
    const id = await h.createSession();
    await h.send(id, '/stream 5000 0');
    const events = await h.waitForTurns(id, 1, 30_000);
    const deltas = events.filter((e) => e.type === 'message.delta');
    const expected = Array.from({ length: 5000 }, (_, i) => `t${i} `).join('');
    const completed = events.find((e) => e.type === 'message.completed')!;
    expect((completed.data as { text: string }).text).toBe(expected);
    expect(deltas.map((e) => (e.data as { text: string }).text).join('')).toBe(expected);
    process.stdout.write(`/stream 5000 0: ${deltas.length} message.delta rows\n`);
    expect(deltas.length).toBeLessThan(500);
    expect(events.length).toBeLessThan(520);
  });

  it('answers several queued messages in seq order, one turn each', async () => {
    const id = await h.createSession();
    const seqs = [];
    for (const word of ['one', 'two', 'three']) seqs.push(await h.send(id, word));
    const events = await h.waitForTurns(id, 3);
    const started = events.filter((e) => e.type === 'turn.started');
    expect(started.map((e) => (e.data as { inputSeq: number }).inputSeq)).toEqual(seqs);
    const texts = events
      .filter((e) => e.type === 'message.completed')
      .map((e) => (e.data as { text: string }).text);
    expect(texts).toEqual(['You said: one', 'You said: two', 'You said: three']);
  });

  it('records /tool as tool.call and tool.result before the reply', async () => {
    const id = await h.createSession();
    await h.send(id, '/tool search');
    const events = await h.waitForTurns(id, 1);
    const turn = events.filter((e) =>
      ['tool.call', 'tool.result', 'message.delta', 'message.completed'].includes(e.type),
    );
    expect(types(turn)).toEqual(['tool.call', 'tool.result', 'message.delta', 'message.completed']);
    const call = turn[0].data as { callId: string; name: string; input: unknown };
    expect(call).toMatchObject({ name: 'search', input: {} });
    expect(turn[1].data).toMatchObject({ callId: call.callId, output: 'ok', isError: false });
    expect(turn[3].data).toMatchObject({ text: 'used search' });
  });

  it('ends a /fail turn with error and answers the next message', async () => {
    const id = await h.createSession();
    await h.send(id, '/fail');
    await h.send(id, 'still there?');
    const events = await h.waitForTurns(id, 2);
    const [failed, answered] = events.filter((e) => e.type === 'turn.completed');
    const failedTurn = (failed.data as { turnId: string }).turnId;
    const error = events.find((e) => e.type === 'agent.error')!;
    expect(error.seq).toBeLessThan(failed.seq);
    expect(error.data).toMatchObject({ code: 'agent_failed', turnId: failedTurn });
    expect(failed.data).toEqual({
      turnId: failedTurn,
      stopReason: 'error',
      error: { code: 'agent_failed', message: expect.stringContaining('/fail') },
    });
    expect(events.some((e) => e.type === 'message.completed' && e.data.turnId === failedTurn)).toBe(
      false,
    );
    expect(answered.data).toMatchObject({ stopReason: 'end_turn' });
    expect(events.filter((e) => e.type === 'message.completed').map((e) => e.data)).toEqual([
      expect.objectContaining({ text: 'You said: still there?' }),
    ]);
  });

  it('closes a turn of an agent nobody registered with an error, and the session goes on', async () => {
    const id = await h.createSession('no-such-agent');
    await h.send(id, 'hello');
    const events = await h.waitForTurns(id, 1);
    expect(events.find((e) => e.type === 'agent.error')!.data).toMatchObject({
      code: 'unknown_agent',
    });
    expect(events.at(-1)!.data).toMatchObject({ stopReason: 'error' });
  });

  it('runs a runtime registered by the embedding app, and survives its synchronous throw', async () => {
    const id = await h.createSession('sync-throw');
    await h.send(id, 'hello');
    const events = await h.waitForTurns(id, 1);
    expect(events.find((e) => e.type === 'agent.error')!.data).toMatchObject({
      code: 'agent_failed',
      message: 'synchronous failure',
    });
    expect(events.at(-1)!.data).toMatchObject({ stopReason: 'error' });
    const demo = await h.createSession();
    await h.send(demo, 'still working');
    await h.waitForTurns(demo, 1);
  });
});
