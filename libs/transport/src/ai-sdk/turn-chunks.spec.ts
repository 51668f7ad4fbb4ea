import { readUIMessageStream, uiMessageChunkSchema, validateUIMessages, type UIMessage } from 'ai';
import type { NewEvent, StoredEvent } from '../protocol/events';
import { TurnChunks, type UiMessageChunk } from './turn-chunks';
import { UiMessageFold } from './ui-messages';

const T = 'turn-1';

function log(events: NewEvent[], firstSeq = 1): StoredEvent[] {
  return events.map(
    (e, i) =>
      ({
        ...e,
        sessionId: 's',
        seq: firstSeq + i,
        createdAt: new Date(0).toISOString(),
      }) as StoredEvent,
  );
}

const started = (turnId = T, inputSeq = 1): NewEvent => ({
  type: 'turn.started',
  data: { turnId, inputSeq },
});
const delta = (text: string, turnId = T): NewEvent => ({
  type: 'message.delta',
  data: { turnId, text },
});
const completed = (
  stopReason: 'end_turn' | 'interrupted' | 'error' | 'worker_lost',
  error?: { code: string; message: string },
): NewEvent => ({ type: 'turn.completed', data: { turnId: T, stopReason, error } });

function mapAll(events: StoredEvent[], mapper = new TurnChunks()): UiMessageChunk[] {
  return events.flatMap((e) => mapper.map(e));
}

/** Every chunk through the SDK's own schema: a failure here fails the SDK's client. */
async function expectValid(chunks: UiMessageChunk[]): Promise<void> {
  const schema = uiMessageChunkSchema();
  for (const chunk of chunks) {
    const result = await schema.validate!(chunk);
    expect({ chunk, success: result.success }).toEqual({ chunk, success: true });
  }
}

/** The chunks as the SDK's client reads them: the last message it builds. */
async function read(chunks: UiMessageChunk[]): Promise<UIMessage | undefined> {
  const stream = new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({
    stream: stream as never,
    terminateOnError: true,
  })) {
    last = message;
  }
  return last;
}

const textOf = (message: UIMessage | undefined) =>
  (message?.parts ?? []).map((p) => (p.type === 'text' ? p.text : '')).join('');

describe(TurnChunks.name, () => {
  it('maps a text turn to start, one text part and finish stop', async () => {
    const chunks = mapAll(
      log([
        { type: 'message.user', data: { clientMessageId: 'm1', content: 'hi' } },
        started(T, 1),
        delta('Hel'),
        delta(''),
        delta('lo'),
        { type: 'message.completed', data: { turnId: T, text: 'Hello' } },
        completed('end_turn'),
      ]),
    );
    expect(chunks).toEqual([
      { type: 'start', messageId: T },
      { type: 'start-step' },
      { type: 'text-start', id: `${T}:0` },
      { type: 'text-delta', id: `${T}:0`, delta: 'Hel' },
      { type: 'text-delta', id: `${T}:0`, delta: 'lo' },
      { type: 'text-end', id: `${T}:0` },
      { type: 'finish-step' },
      { type: 'finish', finishReason: 'stop' },
    ]);
    await expectValid(chunks);
    const message = await read(chunks);
    expect(message?.id).toBe(T);
    expect(textOf(message)).toBe('Hello');
  });

  it('closes the text part at a tool call and marks tools provider-executed', async () => {
    const chunks = mapAll(
      log([
        started(),
        delta('a'),
        { type: 'tool.call', data: { turnId: T, callId: 'c1', name: 'search', input: { q: 1 } } },
        { type: 'tool.result', data: { turnId: T, callId: 'c1', output: 'ok', isError: false } },
        { type: 'tool.call', data: { turnId: T, callId: 'c2', name: 'fetch', input: undefined } },
        { type: 'tool.result', data: { turnId: T, callId: 'c2', output: { e: 1 }, isError: true } },
        delta('b'),
        completed('end_turn'),
      ]),
    );
    expect(chunks.map((c) => c.type)).toEqual([
      'start',
      'start-step',
      'text-start',
      'text-delta',
      'text-end',
      'tool-input-available',
      'tool-output-available',
      'tool-input-available',
      'tool-output-error',
      'text-start',
      'text-delta',
      'text-end',
      'finish-step',
      'finish',
    ]);
    for (const chunk of chunks.filter((c) => c.type.startsWith('tool-'))) {
      expect(chunk).toMatchObject({ providerExecuted: true, dynamic: true });
    }
    expect(chunks[9]).toEqual({ type: 'text-start', id: `${T}:1` });
    await expectValid(chunks);
    const message = await read(chunks);
    const tools = message?.parts.filter((p) => p.type === 'dynamic-tool');
    expect(tools).toMatchObject([
      { toolCallId: 'c1', toolName: 'search', state: 'output-available', output: 'ok' },
      { toolCallId: 'c2', toolName: 'fetch', state: 'output-error', errorText: '{"e":1}' },
    ]);
    expect(textOf(message)).toBe('ab');
  });

  it('sends no text-end without an open text part', async () => {
    const chunks = mapAll(log([started(), completed('interrupted')]));
    expect(chunks).toEqual([
      { type: 'start', messageId: T },
      { type: 'start-step' },
      { type: 'finish-step' },
      { type: 'finish', finishReason: 'interrupted' },
    ]);
    await expectValid(chunks);
  });

  it('keeps agent errors as transient data and sends one error chunk before finish', async () => {
    const chunks = mapAll(
      log([
        started(),
        delta('x'),
        { type: 'agent.error', data: { code: 'agent_failed', message: 'boom', turnId: T } },
        { type: 'agent.error', data: { code: 'interrupt_failed', message: 'again', turnId: T } },
        completed('error', { code: 'agent_failed', message: 'boom' }),
      ]),
    );
    expect(chunks.filter((c) => c.type === 'error')).toEqual([
      { type: 'error', errorText: 'agent_failed: boom' },
    ]);
    expect(chunks.slice(-2)).toEqual([
      { type: 'error', errorText: 'agent_failed: boom' },
      { type: 'finish', finishReason: 'error' },
    ]);
    expect(chunks[4]).toEqual({
      type: 'data-sessionwire-agent-error',
      data: { seq: 3, code: 'agent_failed', message: 'boom', turnId: T },
      transient: true,
    });
    await expectValid(chunks);
  });

  it('reports a lost worker as an error with its stop reason', async () => {
    const chunks = mapAll(log([started(), delta('x'), completed('worker_lost')]));
    expect(chunks.slice(-3)).toEqual([
      { type: 'finish-step' },
      { type: 'error', errorText: 'worker_lost: the turn ended: worker_lost' },
      { type: 'finish', finishReason: 'error' },
    ]);
  });

  it('maps only the selected turn and nothing after its finish', async () => {
    const other = 'turn-0';
    const mapper = new TurnChunks({ inputSeq: 5 });
    const chunks = mapAll(
      log([
        { type: 'turn.started', data: { turnId: other, inputSeq: 2 } },
        delta('old', other),
        { type: 'turn.completed', data: { turnId: other, stopReason: 'end_turn' } },
        started(T, 5),
        delta('new'),
        delta('ignored', other),
        completed('end_turn'),
        { type: 'turn.started', data: { turnId: 'turn-2', inputSeq: 9 } },
        delta('later', 'turn-2'),
      ]),
      mapper,
    );
    expect(mapper.finished).toBe(true);
    expect(chunks.filter((c) => c.type === 'start')).toEqual([{ type: 'start', messageId: T }]);
    expect(textOf(await read(chunks))).toBe('new');
  });

  it('turns other events and unknown tool outputs into transient data parts', async () => {
    const chunks = mapAll(
      log([
        started(),
        { type: 'interrupt.requested', data: { turnId: T } },
        { type: 'session.state', data: { from: 'ACTIVE', to: 'SUSPENDED', reason: 'idle' } },
        { type: 'tool.result', data: { turnId: T, callId: 'nope', output: 1, isError: false } },
        completed('interrupted'),
      ]),
    );
    expect(
      chunks.slice(2, 5).map((c) => [c.type, (c as { transient?: boolean }).transient]),
    ).toEqual([
      ['data-sessionwire-interrupt-requested', true],
      ['data-sessionwire-session-state', true],
      ['data-sessionwire-tool-result', true],
    ]);
    await expectValid(chunks);
    expect((await read(chunks))?.parts.some((p) => p.type.startsWith('data-'))).toBe(false);
  });

  it('aborts with start and finish when the turn never began, or an error once it did', async () => {
    expect(new TurnChunks().abort('m')).toEqual([
      { type: 'start', messageId: 'm' },
      { type: 'start-step' },
      { type: 'finish-step' },
      { type: 'finish', finishReason: 'interrupted' },
    ]);
    const mapper = new TurnChunks();
    const chunks = mapAll(log([started(), delta('x')]), mapper);
    chunks.push(...mapper.abort('m', { code: 'history_expired', message: 'gone' }));
    chunks.push(...mapper.abort('m', { code: 'twice', message: 'no' }));
    expect(chunks.slice(-4)).toEqual([
      { type: 'text-end', id: `${T}:0` },
      { type: 'finish-step' },
      { type: 'error', errorText: 'history_expired: gone' },
      { type: 'finish', finishReason: 'error' },
    ]);
    await expectValid(chunks);
  });
});

describe(UiMessageFold.name, () => {
  it('folds a session into user and assistant messages the SDK accepts', async () => {
    const events = log([
      { type: 'message.user', data: { clientMessageId: 'm1', content: '/tool search' } },
      started(T, 1),
      { type: 'tool.call', data: { turnId: T, callId: 'c1', name: 'search', input: {} } },
      { type: 'tool.result', data: { turnId: T, callId: 'c1', output: 'ok', isError: false } },
      delta('used '),
      delta('search'),
      completed('end_turn'),
      { type: 'message.user', data: { clientMessageId: 'm2', content: 'again' } },
    ]);
    const messages = new UiMessageFold().add(events.slice(0, 4)).add(events.slice(4)).messages;
    expect(messages).toEqual([
      { id: 'm1', role: 'user', parts: [{ type: 'text', text: '/tool search', state: 'done' }] },
      {
        id: T,
        role: 'assistant',
        parts: [
          { type: 'step-start' },
          {
            type: 'dynamic-tool',
            toolName: 'search',
            toolCallId: 'c1',
            providerExecuted: true,
            input: {},
            state: 'output-available',
            output: 'ok',
          },
          { type: 'text', text: 'used search', state: 'done' },
        ],
      },
      { id: 'm2', role: 'user', parts: [{ type: 'text', text: 'again', state: 'done' }] },
    ]);
    await expect(validateUIMessages({ messages })).resolves.toHaveLength(3);
  });
});
