import type { NewEvent } from '@sessionwire/transport/protocol';
import { TurnOutput } from './turn-output';

describe(TurnOutput.name, () => {
  let appended: NewEvent[][];
  const append = async (events: NewEvent[]) => {
    appended.push(events.map((e) => structuredClone(e)));
  };

  beforeEach(() => {
    appended = [];
    jest.useFakeTimers();
  });
  afterEach(() => jest.useRealTimers());

  it('merges deltas within the flush interval into one row', async () => {
    const out = new TurnOutput('t', append, 25);
    for (let i = 0; i < 1000; i++) out.delta(`t${i} `);
    expect(appended).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(25);
    expect(appended).toHaveLength(1);
    expect(appended[0]).toEqual([{ type: 'message.delta', data: { turnId: 't', text: out.text } }]);
    expect(out.text).toBe(Array.from({ length: 1000 }, (_, i) => `t${i} `).join(''));
  });

  it('writes at most one delta row per interval while text keeps coming', async () => {
    const out = new TurnOutput('t', append, 25);
    for (let ms = 0; ms < 250; ms++) {
      out.delta('x');
      await jest.advanceTimersByTimeAsync(1);
    }
    await out.close([]);
    expect(appended.length).toBeGreaterThanOrEqual(9);
    expect(appended.length).toBeLessThanOrEqual(11);
    expect(
      appended
        .flat()
        .map((e) => (e.data as { text: string }).text)
        .join(''),
    ).toBe('x'.repeat(250));
  });

  it('keeps merging while an append is in flight', async () => {
    let release!: () => void;
    const slow = async (events: NewEvent[]) => {
      appended.push(events.map((e) => structuredClone(e)));
      if (appended.length === 1) await new Promise<void>((r) => (release = r));
    };
    const out = new TurnOutput('t', slow, 0);
    out.delta('a');
    await jest.advanceTimersByTimeAsync(0);
    for (const c of 'bcdef') {
      out.delta(c);
      await jest.advanceTimersByTimeAsync(0);
    }
    release();
    await out.close([]);
    expect(appended.map((batch) => batch.map((e) => (e.data as { text: string }).text))).toEqual([
      ['a'],
      ['bcdef'],
    ]);
  });

  it('writes other events at once, after the text before them and in order', async () => {
    const out = new TurnOutput('t', append, 1000);
    out.delta('before ');
    out.event({ type: 'tool.call', data: { turnId: 't', callId: 'c', name: 'n', input: {} } });
    out.delta('after');
    await jest.advanceTimersByTimeAsync(0);
    // Written without waiting for the 1000 ms interval; text emitted meanwhile follows it.
    expect(appended.flat().map((e) => e.type)).toEqual([
      'message.delta',
      'tool.call',
      'message.delta',
    ]);
    await out.close([{ type: 'message.completed', data: { turnId: 't', text: out.text } }]);
    expect(appended.flat().map((e) => [e.type, (e.data as { text?: string }).text])).toEqual([
      ['message.delta', 'before '],
      ['tool.call', undefined],
      ['message.delta', 'after'],
      ['message.completed', 'before after'],
    ]);
  });

  it('writes the remaining text and the final events in one append on close', async () => {
    const out = new TurnOutput('t', append, 1000);
    out.delta('hello');
    await out.close([{ type: 'turn.completed', data: { turnId: 't', stopReason: 'end_turn' } }]);
    expect(appended).toEqual([
      [
        { type: 'message.delta', data: { turnId: 't', text: 'hello' } },
        { type: 'turn.completed', data: { turnId: 't', stopReason: 'end_turn' } },
      ],
    ]);
    out.delta('ignored');
    await jest.advanceTimersByTimeAsync(2000);
    expect(appended).toHaveLength(1);
  });

  it('stops after the first failed append and reports it', async () => {
    const failure = new Error('stale');
    const failures: unknown[] = [];
    let calls = 0;
    const failing = async () => {
      calls++;
      throw failure;
    };
    const out = new TurnOutput('t', failing, 5, (e) => failures.push(e));
    out.delta('a');
    await jest.advanceTimersByTimeAsync(5);
    out.delta('b');
    await jest.advanceTimersByTimeAsync(5);
    await expect(out.close([])).rejects.toBe(failure);
    expect(calls).toBe(1);
    expect(failures).toEqual([failure]);
  });

  it('writes nothing after abandon', async () => {
    const out = new TurnOutput('t', append, 5);
    out.delta('a');
    out.abandon();
    out.event({ type: 'tool.call', data: { turnId: 't', callId: 'c', name: 'n', input: {} } });
    await jest.advanceTimersByTimeAsync(50);
    expect(appended).toEqual([]);
  });
});
