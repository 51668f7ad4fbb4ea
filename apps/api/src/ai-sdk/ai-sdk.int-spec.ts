import { API_KEY, startTestApi, type TestApi } from '../../test/api-test-app';
import { TestProducer } from '../../test/test-producer';
import {
  ChunkReader,
  chatTransport,
  messageText,
  userMessage,
} from '../../../../test/ai-sdk-client';
import { LifecycleService } from '../health/lifecycle.service';
import { StreamHubService } from '../streams/stream-hub.service';
import { AiSdkController } from './ai-sdk.controller';

describe(AiSdkController.name, () => {
  let api: TestApi;
  let producer: TestProducer;
  let cleanup = new AbortController();

  const session = async () =>
    (await api.request('POST', '/v1/sessions', { body: {} })).body.id as string;
  const token = async (id: string, scope: string[]) =>
    (await api.request('POST', `/v1/sessions/${id}/tokens`, { body: { scope } })).body
      .token as string;
  const send = async (id: string, messageId: string, text: string, credential = API_KEY) => {
    const stream = await chatTransport(api.url, credential, cleanup.signal).sendMessages({
      chatId: id,
      messages: [userMessage(messageId, text)],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: undefined,
    });
    return new ChunkReader(stream);
  };
  const resume = async (id: string, credential = API_KEY) => {
    const stream = await chatTransport(api.url, credential, cleanup.signal).reconnectToStream({
      chatId: id,
    });
    if (!stream) return null;
    return new ChunkReader(stream);
  };
  const eventsOf = async (id: string) =>
    (await api.request('GET', `/v1/sessions/${id}/events?limit=1000`)).body.events as {
      type: string;
      data: Record<string, unknown>;
    }[];

  beforeAll(async () => {
    api = await startTestApi({ env: { MAX_REPLAY_GAP: '5', HEARTBEAT_MS: '200' } });
    producer = new TestProducer(api.db, api.broker);
  });
  afterEach(() => {
    cleanup.abort();
    cleanup = new AbortController();
  });
  afterAll(() => api.close());

  it('streams the POSTed message’s turn, and a retried POST appends nothing and streams it whole', async () => {
    const id = await session();
    await producer.activate(id);
    const first = await send(id, 'm-1', 'hello');
    const { turnId } = await producer.startTurn(id);
    await producer.deltas(id, 3);
    await first.untilText('t0 t1 t2 '.length);
    const retried = await send(id, 'm-1', 'hello');
    await producer.deltas(id, 2);
    await producer.completeTurn(id);
    await Promise.all([first.done, retried.done]);
    for (const reader of [first, retried]) {
      expect(reader.error).toBeUndefined();
      expect(reader.chunks[0]).toEqual({ type: 'start', messageId: turnId });
      expect(reader.chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'stop' });
      expect(messageText(reader.message)).toBe('t0 t1 t2 t0 t1 ');
    }
    expect((await eventsOf(id)).filter((e) => e.type === 'message.user')).toHaveLength(1);
    const conflict = await api.request('POST', '/v1/ai-sdk/chat', {
      body: { id, messages: [userMessage('m-1', 'other text')] },
    });
    expect([conflict.status, conflict.body.code]).toEqual([409, 'idempotency_conflict']);
  });

  it('answers the resume with 204 when nothing runs, and replays a running turn whole past MAX_REPLAY_GAP', async () => {
    const id = await session();
    await producer.activate(id);
    expect(await resume(id)).toBeNull();
    await api.request('POST', `/v1/sessions/${id}/messages`, {
      body: { clientMessageId: 'old', content: 'x' },
    });
    await producer.startTurn(id);
    await producer.bulkDeltas(id, 3);
    await producer.completeTurn(id);
    expect(await resume(id)).toBeNull();

    await api.request('POST', `/v1/sessions/${id}/messages`, {
      body: { clientMessageId: 'new', content: 'y' },
    });
    const waiting = await resume(id);
    expect(waiting).not.toBeNull();
    const { turnId } = await producer.startTurn(id);
    await producer.bulkDeltas(id, 20);
    const running = await resume(id);
    await running!.untilText('b0 '.length);
    await producer.deltas(id, 1);
    await producer.completeTurn(id);
    await Promise.all([waiting!.done, running!.done]);
    const replay = Array.from({ length: 20 }, (_, i) => `b${i} `).join('') + 't0 ';
    for (const reader of [waiting!, running!]) {
      expect(reader.error).toBeUndefined();
      expect(reader.of('start')).toEqual([{ type: 'start', messageId: turnId }]);
      expect(messageText(reader.message)).toBe(replay);
      expect(reader.of('finish')).toHaveLength(1);
    }
  });

  it('sends the UI message stream headers and heartbeats as SSE comments', async () => {
    const id = await session();
    await producer.activate(id);
    await api.request('POST', `/v1/sessions/${id}/messages`, { body: { content: 'x' } });
    await producer.startTurn(id);
    const controller = new AbortController();
    const res = await fetch(`${api.url}/v1/ai-sdk/chat/${id}/stream`, {
      headers: { authorization: `Bearer ${API_KEY}`, 'x-request-id': 'req-ai-1' },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('x-request-id')).toBe('req-ai-1');
    const reader = res.body!.getReader();
    let text = '';
    // A heartbeat may come before the replay's first chunk (the hub's tick runs on its own).
    while (!text.includes(': heartbeat\n\n') || !text.includes('data: '))
      text += new TextDecoder().decode((await reader.read()).value);
    const frames = text.split('\n\n').filter((frame) => frame !== '');
    expect(frames.every((frame) => frame === ': heartbeat' || frame.startsWith('data: '))).toBe(true);
    expect(frames.find((frame) => frame.startsWith('data: '))).toMatch(/^data: \{"type":"start"/);
    controller.abort();
    await producer.completeTurn(id);
  });

  it('refuses bad requests with problem+json and appends nothing', async () => {
    const id = await session();
    const post = (body: unknown) => api.request('POST', '/v1/ai-sdk/chat', { body });
    const cases: [unknown, number, string][] = [
      [{ id, messages: [userMessage('bad id!', 'x')] }, 400, 'validation_failed'],
      [
        { id, messages: [{ ...userMessage('a', 'x'), role: 'assistant' }] },
        400,
        'validation_failed',
      ],
      [{ id, messages: [{ id: 'a', role: 'user', parts: [] }] }, 400, 'validation_failed'],
      [{ id, messages: [] }, 400, 'validation_failed'],
      [{ id: 'nope', messages: [userMessage('a', 'x')] }, 400, 'validation_failed'],
      [
        { id, trigger: 'regenerate-message', messages: [userMessage('a', 'x')] },
        400,
        'unsupported_trigger',
      ],
      [
        { id: '0190a000-0000-7000-8000-000000000000', messages: [userMessage('a', 'x')] },
        404,
        'session_not_found',
      ],
    ];
    for (const [body, status, code] of cases) {
      const res = await post(body);
      expect({ body, status: res.status, code: res.body?.code }).toEqual({ body, status, code });
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    const stream = await fetch(`${api.url}/v1/ai-sdk/chat/not-a-uuid/stream`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(stream.status).toBe(400);
    expect((await stream.json()).code).toBe('validation_failed');
    expect((await fetch(`${api.url}/v1/ai-sdk/chat/${id}/stream`)).status).toBe(401);
    expect(await eventsOf(id)).toEqual([expect.objectContaining({ type: 'session.state' })]);
  });

  it('lets a read token resume and read messages but not send or stop; a write token sends', async () => {
    const id = await session();
    await producer.activate(id);
    const read = await token(id, ['read']);
    const write = await token(id, ['read', 'write']);
    const other = await token(await session(), ['read', 'write']);
    await expect(send(id, 'r-1', 'x', read)).rejects.toThrow(/forbidden|403|scope/i);
    await expect(send(id, 'o-1', 'x', other)).rejects.toThrow(/another session|403/i);
    const stop = await api.request('POST', `/v1/ai-sdk/chat/${id}/stop`, { auth: read });
    expect(stop.status).toBe(403);
    const sent = await send(id, 'w-1', 'hi', write);
    const { turnId } = await producer.startTurn(id);
    const resumed = await resume(id, read);
    await producer.deltas(id, 2);
    await producer.completeTurn(id);
    await Promise.all([sent.done, resumed!.done]);
    expect(messageText(sent.message)).toBe('t0 t1 ');
    expect(messageText(resumed!.message)).toBe('t0 t1 ');
    const messages = await api.request('GET', `/v1/ai-sdk/chat/${id}/messages`, { auth: read });
    expect(messages.status).toBe(200);
    expect(messages.body).toEqual([
      { id: 'w-1', role: 'user', parts: [{ type: 'text', text: 'hi', state: 'done' }] },
      {
        id: turnId,
        role: 'assistant',
        parts: [{ type: 'step-start' }, { type: 'text', text: 't0 t1 ', state: 'done' }],
      },
    ]);
  });

  it('stops a message whose turn has not begun once it begins', async () => {
    const id = await session();
    await producer.activate(id);
    await api.request('POST', `/v1/sessions/${id}/messages`, { body: { content: 'x' } });
    const stop = api.request('POST', `/v1/ai-sdk/chat/${id}/stop`);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const { turnId } = await producer.startTurn(id);
    expect((await stop).body).toEqual({ sessionId: id, turnId });
    const interrupts = (await eventsOf(id)).filter((e) => e.type === 'interrupt.requested');
    expect(interrupts).toEqual([expect.objectContaining({ data: { turnId } })]);
    await producer.completeTurn(id);
    expect((await api.request('POST', `/v1/ai-sdk/chat/${id}/stop`)).body).toEqual({
      sessionId: id,
      turnId: null,
    });
  });

  // Last: it leaves the node draining.
  it('keeps a running turn through a drain until it completes, and refuses new streams with 503', async () => {
    const id = await session();
    await producer.activate(id);
    await api.request('POST', `/v1/sessions/${id}/messages`, { body: { content: 'x' } });
    await producer.startTurn(id);
    const reader = await resume(id);
    await producer.deltas(id, 1);
    await reader!.untilText(3);
    api.app.get(LifecycleService).beginDrain();
    const drained = api.app.get(StreamHubService).drain(50);
    const refused = await fetch(`${api.url}/v1/ai-sdk/chat/${id}/stream`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([503, '1']);
    const post = await api.request('POST', '/v1/ai-sdk/chat', {
      body: { id, messages: [userMessage('during-drain', 'x')] },
    });
    expect([post.status, post.body.code]).toEqual([503, 'unavailable']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await producer.deltas(id, 2);
    await producer.completeTurn(id);
    await reader!.done;
    await drained;
    expect(reader!.error).toBeUndefined();
    expect(messageText(reader!.message)).toBe('t0 t0 t1 ');
    expect(reader!.chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'stop' });
    expect((await eventsOf(id)).filter((e) => e.type === 'message.user')).toHaveLength(1);
  });
});
