import type { UIMessageChunk } from 'ai';
import {
  ChunkReader,
  chatTransport,
  demoReply as reply,
  messageText,
  userMessage,
} from '../ai-sdk-client';
import { createTestDatabase, testRedisPrefix, testRedisUrl, type TestDatabase } from '../database';
import { freePort, ManagedProcess } from '../process';
import { workerProcess } from './worker-processes';

const API_KEY = 'ai-sdk-node-api-key-0001';
const AUTH_SECRET = 'ai-sdk-node-auth-secret-of-at-least-32-bytes';

describe('AI SDK adapter with the real ai package, across API nodes', () => {
  let db: TestDatabase;
  let nodeA: ManagedProcess;
  let nodeB: ManagedProcess;
  let worker: ManagedProcess;
  let urlA: string;
  let urlB: string;

  const apiNode = async (name: string) => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const node = new ManagedProcess({
      name,
      entry: 'dist/apps/api/main.js',
      env: {
        DATABASE_URL: db.url,
        REDIS_URL: testRedisUrl(),
        REDIS_PREFIX: prefix,
        PORT: String(port),
        API_KEYS: API_KEY,
        AUTH_SECRET,
        HEARTBEAT_MS: '1000',
        SYNC_INTERVAL_MS: '250',
        MAX_REPLAY_GAP: '10',
      },
      readyUrl: `${url}/readyz`,
    });
    return { node, url };
  };
  let prefix: string;
  let cleanup = new AbortController();

  const post = async (url: string, body: unknown = {}, token = API_KEY) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const newChat = async () => (await post(`${urlB}/v1/sessions`)).body.id as string;
  const tokenFor = async (id: string, scope: string[]) =>
    (await post(`${urlB}/v1/sessions/${id}/tokens`, { scope })).body.token as string;
  const send = async (url: string, id: string, text: string, token = API_KEY) =>
    new ChunkReader(
      await chatTransport(url, token, cleanup.signal).sendMessages({
        chatId: id,
        messages: [userMessage(`msg-${Math.random().toString(36).slice(2)}`, text)],
        trigger: 'submit-message',
        messageId: undefined,
        abortSignal: undefined,
      }),
    );
  const resume = async (url: string, id: string, token = API_KEY) => {
    const stream = await chatTransport(url, token, cleanup.signal).reconnectToStream({
      chatId: id,
    });
    return stream && new ChunkReader(stream);
  };
  const types = (chunks: UIMessageChunk[]) => chunks.map((c) => c.type);

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = testRedisPrefix();
    ({ node: nodeA, url: urlA } = await apiNode('api-a'));
    ({ node: nodeB, url: urlB } = await apiNode('api-b'));
    worker = workerProcess(db, prefix, 'ai-sdk-worker', { WORKER_POLL_MS: '100' });
    await Promise.all([nodeA.start(), nodeB.start(), worker.start()]);
  });
  afterEach(() => {
    cleanup.abort();
    cleanup = new AbortController();
  });
  afterAll(async () => {
    await Promise.all([nodeA?.stop(), nodeB?.stop(), worker?.stop()]);
    await db?.drop();
  });

  it('yields a tool turn as provider-executed dynamic tool parts', async () => {
    const id = await newChat();
    const reader = await send(urlB, id, '/tool search');
    await reader.done;
    expect(reader.error).toBeUndefined();
    const tool = reader.message?.parts.find((p) => p.type === 'dynamic-tool');
    expect(tool).toMatchObject({
      toolName: 'search',
      state: 'output-available',
      output: 'ok',
      providerExecuted: true,
    });
    expect(messageText(reader.message)).toBe('used search');
    expect(reader.chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'stop' });
  });

  it('yields one error and a finish for /fail', async () => {
    const id = await newChat();
    const reader = await send(urlB, id, '/fail');
    await reader.done;
    expect(reader.of('error')).toEqual([
      { type: 'error', errorText: expect.stringMatching(/fail/) },
    ]);
    expect(types(reader.chunks).slice(-2)).toEqual(['error', 'finish']);
    expect(reader.chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'error' });
  });

  it('ends a stopped turn as interrupted, and answers a reconnect when nothing runs with null', async () => {
    const id = await newChat();
    const reader = await send(urlB, id, '/stream 400 25');
    await reader.untilText(reply(4).length);
    const stop = await post(`${urlA}/v1/ai-sdk/chat/${id}/stop`);
    expect(stop.status).toBe(202);
    expect(stop.body.turnId).toEqual((reader.chunks[0] as { messageId: string }).messageId);
    await reader.done;
    expect(reader.chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'interrupted' });
    expect(messageText(reader.message).length).toBeLessThan(reply(400).length);
    expect(await resume(urlA, id)).toBeNull();
    expect(await resume(urlB, id)).toBeNull();
  });

  it('lets a read token resume but not send; a write token sends', async () => {
    const id = await newChat();
    const read = await tokenFor(id, ['read']);
    const write = await tokenFor(id, ['read', 'write']);
    await expect(send(urlA, id, 'hello', read)).rejects.toThrow(/403|forbidden|scope/i);
    const sent = await send(urlA, id, '/stream 40 20', write);
    await sent.untilText(reply(2).length);
    const resumed = await resume(urlB, id, read);
    expect(resumed).not.toBeNull();
    await Promise.all([sent.done, resumed!.done]);
    expect(messageText(sent.message)).toBe(reply(40));
    expect(messageText(resumed!.message)).toBe(reply(40));
  });

  it('resumes on node B after node A is SIGKILLed mid-reply: the full reply exactly once', async () => {
    const id = await newChat();
    const onA = await send(urlA, id, '/stream 120 20');
    await onA.untilText(reply(20).length);
    const messageId = (onA.chunks[0] as { messageId: string }).messageId;
    await nodeA.kill('SIGKILL');
    await onA.done;
    expect(onA.error ?? onA.of('finish').length === 0).toBeTruthy();
    const partial = messageText(onA.message);
    expect(reply(120).startsWith(partial)).toBe(true);
    expect(partial.length).toBeLessThan(reply(120).length);

    const onB = await resume(urlB, id);
    expect(onB).not.toBeNull();
    await onB!.done;
    expect(onB!.error).toBeUndefined();
    expect(onB!.of('start')).toEqual([{ type: 'start', messageId }]);
    expect(messageText(onB!.message)).toBe(reply(120));
    expect(onB!.chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'stop' });
  });
});
