import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { OpenAiRuntime } from '@sessionwire/agents';
import { deltasOf, WorkerHarness } from './worker-harness';

interface ChatRequest {
  headers: IncomingMessage['headers'];
  body: { model: string; stream: boolean; messages: { role: string; content: string }[] };
}

/** A chat-completions endpoint speaking the streaming (SSE) format, scripted by the last message. */
async function fakeOpenAi(): Promise<{ url: string; requests: ChatRequest[]; server: Server }> {
  const requests: ChatRequest[] = [];
  const chunk = (content: string, finish: string | null = null) =>
    `data: ${JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: { content }, finish_reason: finish }],
    })}\n\n`;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as ChatRequest['body'];
      requests.push({ headers: req.headers, body });
      if (req.url !== '/v1/chat/completions' || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      const last = body.messages.at(-1)!.content;
      if (last === 'boom') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'upstream exploded' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (last === 'cut') {
        res.write(chunk('partial '));
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      const parts = last === 'hello' ? ['Hel', 'lo', ' wor', 'ld'] : ['echo: ', last];
      let i = 0;
      const next = () => {
        if (i < parts.length) {
          res.write(chunk(parts[i++]));
          setTimeout(next, 5);
        } else {
          res.write(chunk('', 'stop'));
          res.end('data: [DONE]\n\n');
        }
      };
      next();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/v1`, requests, server };
}

describe(OpenAiRuntime.name, () => {
  let h: WorkerHarness;
  let fake: Awaited<ReturnType<typeof fakeOpenAi>>;

  beforeAll(async () => {
    fake = await fakeOpenAi();
    h = await WorkerHarness.create();
    await h.startWorker({
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'test-key',
      OPENAI_MODEL: 'tiny-model',
    });
  });
  afterAll(async () => {
    await h.close();
    fake.server.closeAllConnections();
    fake.server.close();
  });

  const completions = (events: Awaited<ReturnType<WorkerHarness['events']>>) =>
    events.filter((e) => e.type === 'message.completed').map((e) => e.data.text);

  it('streams deltas and sends the conversation history', async () => {
    const id = await h.createSession('openai');
    await h.send(id, 'hello');
    await h.waitForTurns(id, 1);
    await h.send(id, 'again');
    const events = await h.waitForTurns(id, 2);
    expect(completions(events)).toEqual(['Hello world', 'echo: again']);
    const turns = events.filter((e) => e.type === 'turn.completed');
    expect(turns.map((e) => e.data)).toEqual([
      expect.objectContaining({ stopReason: 'end_turn' }),
      expect.objectContaining({ stopReason: 'end_turn' }),
    ]);
    expect(deltasOf(events, (turns[0].data as { turnId: string }).turnId)).toBe('Hello world');
    const [first, second] = fake.requests.slice(-2);
    expect(first.headers.authorization).toBe('Bearer test-key');
    expect(first.body).toEqual({
      model: 'tiny-model',
      stream: true,
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(second.body.messages).toEqual([
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'Hello world' },
      { role: 'user', content: 'again' },
    ]);
  });

  it('ends the turn with error when the endpoint answers 500', async () => {
    const id = await h.createSession('openai');
    await h.send(id, 'boom');
    const events = await h.waitForTurns(id, 1);
    expect(events.find((e) => e.type === 'agent.error')!.data).toMatchObject({
      code: 'agent_failed',
      message: expect.stringContaining('500'),
    });
    expect(events.at(-1)!.data).toMatchObject({
      stopReason: 'error',
      error: { code: 'agent_failed' },
    });
    expect(completions(events)).toEqual([]);
  });

  it('ends the turn with error when the stream closes midway, and goes on', async () => {
    const id = await h.createSession('openai');
    await h.send(id, 'cut');
    await h.waitForTurns(id, 1);
    await h.send(id, 'after');
    const events = await h.waitForTurns(id, 2);
    const [cut, after] = events.filter((e) => e.type === 'turn.completed');
    expect(cut.data).toMatchObject({ stopReason: 'error', error: { code: 'agent_failed' } });
    expect(deltasOf(events, (cut.data as { turnId: string }).turnId)).toBe('partial ');
    expect(after.data).toMatchObject({ stopReason: 'end_turn' });
    expect(completions(events)).toEqual(['echo: after']);
    // A failed reply is not history: only completed ones are sent back.
    expect(fake.requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: 'cut' },
      { role: 'user', content: 'after' },
    ]);
  });
});
