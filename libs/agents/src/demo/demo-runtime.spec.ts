import type { AgentEmission, AgentTurn } from '../agent-runtime';
import { chunks, DemoRuntime } from './demo-runtime';

function turn(input: string): AgentTurn {
  return {
    sessionId: 's',
    turnId: 't',
    agent: 'demo',
    inputSeq: 2,
    input,
    metadata: {},
    history: async () => [],
  };
}

async function run(input: string, signal = new AbortController().signal) {
  const out: AgentEmission[] = [];
  const runtime = new DemoRuntime();
  await runtime.run(turn(input), signal, (e) => out.push(e));
  return out;
}

const text = (out: AgentEmission[]) =>
  out.map((e) => (e.type === 'delta' ? e.text : `[${e.type}]`)).join('');

describe(DemoRuntime.name, () => {
  it('echoes anything else as "You said: <content>" in small chunks', async () => {
    const out = await run('hello there, how are you today?');
    expect(text(out)).toBe('You said: hello there, how are you today?');
    expect(out.length).toBeGreaterThan(5);
    for (const e of out) expect(e.type === 'delta' && e.text.length <= 4).toBe(true);
  });

  it('keeps surrogate pairs whole and caps the number of chunks', () => {
    const parts = chunks('é🙂'.repeat(500));
    expect(parts.join('')).toBe('é🙂'.repeat(500));
    expect(parts.length).toBeLessThanOrEqual(32);
    for (const part of parts) expect(part).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
  });

  it('/stream N streams tokens t0 … t(N-1), each followed by a space', async () => {
    const out = await run('/stream 12');
    expect(out.every((e) => e.type === 'delta')).toBe(true);
    expect(out).toHaveLength(12);
    expect(text(out)).toBe('t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 t10 t11 ');
  });

  it('/stream N delayMs waits between tokens', async () => {
    const startedAt = Date.now();
    const out = await run('/stream 3 40');
    expect(text(out)).toBe('t0 t1 t2 ');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(100);
  });

  it('/stream N delayMs keeps to its pace: a late timer does not push the later tokens back', async () => {
    const startedAt = performance.now();
    const at: number[] = [];
    const runtime = new DemoRuntime();
    let blocked = false;
    await runtime.run(turn('/stream 10 20'), new AbortController().signal, () => {
      at.push(performance.now() - startedAt);
      if (blocked) return;
      blocked = true;
      // the event loop is busy for 100 ms after the first token
      const until = performance.now() + 100;
      while (performance.now() < until);
    });
    expect(at).toHaveLength(10);
    // token 10 was due at 200 ms; waiting 20 ms after each token cannot end before 20 + 100 +
    // 9 × 20 = 300 ms
    expect(at[9]).toBeGreaterThanOrEqual(195);
    expect(at[9]).toBeLessThan(300);
    // the tokens due while the loop was busy follow at once, each in its own turn of the loop
    for (let i = 1; i < 10; i++) expect(at[i]).toBeGreaterThanOrEqual(at[i - 1]);
  });

  it('/sleep MS waits, then says slept', async () => {
    const startedAt = Date.now();
    expect(text(await run('/sleep 60'))).toBe('slept');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(55);
  });

  it('/sleep stops when its signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 20);
    await expect(run('/sleep 10000', controller.signal)).rejects.toBe(reason);
  });

  it('/tool NAME calls the tool, gets ok and says used NAME', async () => {
    const out = await run('/tool search');
    expect(out).toEqual([
      { type: 'tool.call', callId: expect.any(String), name: 'search', input: {} },
      {
        type: 'tool.result',
        callId: (out[0] as { callId: string }).callId,
        output: 'ok',
        isError: false,
      },
      { type: 'delta', text: 'used search' },
    ]);
  });

  it('/fail throws mid-turn', async () => {
    const out: AgentEmission[] = [];
    await expect(
      new DemoRuntime().run(turn('/fail'), new AbortController().signal, (e) => out.push(e)),
    ).rejects.toThrow('/fail');
    expect(out.length).toBeGreaterThan(0);
  });

  it('/interrupt-fails ignores its signal and its interrupt() throws', async () => {
    const runtime = new DemoRuntime();
    const controller = new AbortController();
    const out: AgentEmission[] = [];
    const running = runtime.run(turn('/interrupt-fails 80'), controller.signal, (e) => out.push(e));
    controller.abort(new Error('stop'));
    expect(() => runtime.interrupt()).toThrow('/interrupt-fails');
    await expect(running).resolves.toBeUndefined();
    expect(text(out)).toBe('slept');
  });

  it('interrupt() of an ordinary turn does not throw', () => {
    expect(() => new DemoRuntime().interrupt()).not.toThrow();
  });

  it.each(['/stream', '/stream x', '/stream 5 -1', '/sleep', '/sleep 1.5', '/tool'])(
    'fails %s with its usage',
    async (input) => {
      await expect(run(input)).rejects.toThrow(/^usage: /);
    },
  );
});
