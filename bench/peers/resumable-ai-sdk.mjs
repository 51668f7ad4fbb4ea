// Peer: an AI SDK chat route made resumable with Vercel's resumable-stream (ioredis), the way the
// AI SDK's docs and resumable-stream's README show: the chat POST runs `createUIMessageStream`,
// turns it into SSE (`JsonToSseTransformStream`) and hands it to `createNewResumableStream`; the
// resume GET answers `resumeExistingStream(id)` with the UI message stream headers. One process
// holds the turn (the producer: its buffer lives in this process's memory) and serves the GET;
// the resume still goes through Redis pub/sub, as it does between instances.
//   IPC `start {id, tokens, wait}`: starts a turn that writes `tokens` text deltas, then holds the
//   turn open (half-finished) until `close`; replies once the library buffered them.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { createUIMessageStream, JsonToSseTransformStream, UI_MESSAGE_STREAM_HEADERS } from 'ai';
import { createResumableStreamContext } from 'resumable-stream/ioredis';

const port = Number(process.env.PORT);
const publisher = new Redis(process.env.REDIS_URL);
const subscriber = new Redis(process.env.REDIS_URL);
publisher.on('error', (e) => console.error(`publisher: ${e.message}`));
subscriber.on('error', (e) => console.error(`subscriber: ${e.message}`));
const context = createResumableStreamContext({
  waitUntil: null,
  publisher,
  subscriber,
  keyPrefix: `rs-ai-sdk-bench-${process.pid}`,
});
const holds = [];

async function startTurn({ id, turnId, tokens }) {
  const stream = createUIMessageStream({
    execute: async ({ writer }) => {
      writer.write({ type: 'start', messageId: turnId });
      writer.write({ type: 'start-step' });
      writer.write({ type: 'text-start', id: `${turnId}:0` });
      for (let i = 0; i < tokens; i++) writer.write({ type: 'text-delta', id: `${turnId}:0`, delta: `t${i} ` });
      await new Promise((resolve) => holds.push(resolve)); // the turn is still running
    },
  });
  const sse = stream.pipeThrough(new JsonToSseTransformStream());
  const first = await context.createNewResumableStream(id, () => sse);
  // The chat POST's own reader (the tab that went away) reads it all, as its response would; the
  // library buffers each chunk as this reader pulls it.
  const last = `"delta":"t${tokens - 1} "`;
  let text = '';
  let reached;
  const done = new Promise((resolve) => (reached = resolve));
  const decoder = new TextDecoder();
  void first
    .pipeTo(new WritableStream({ write: (chunk) => {
      text += typeof chunk === 'string' ? chunk : decoder.decode(chunk);
      if (text.includes(last)) reached();
    } }))
    .catch((e) => console.error(`first reader: ${e.message}`));
  await done;
}

const http = createServer(async (req, res) => {
  const match = /^\/api\/chat\/([\w-]+)\/stream$/.exec(new URL(req.url, 'http://x').pathname);
  if (req.url === '/readyz') return res.writeHead(200).end();
  if (!match) return res.writeHead(404).end();
  try {
    const stream = await context.resumeExistingStream(match[1]);
    if (!stream) return res.writeHead(204).end();
    res.writeHead(200, UI_MESSAGE_STREAM_HEADERS);
    res.flushHeaders();
    const reader = stream.getReader();
    res.on('close', () => reader.cancel().catch((e) => console.error(`cancel: ${e.message}`)));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  } catch (error) {
    console.error(`resume failed: ${error.message}`);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  }
});
http.listen(port, '127.0.0.1', () => console.log(`resumable-stream AI SDK route on ${port}`));

process.on('message', async (message) => {
  try {
    if (message.cmd === 'start') {
      await startTurn(message);
      process.send({ type: 'started' });
    } else if (message.cmd === 'close') {
      for (const hold of holds) hold();
      publisher.disconnect();
      subscriber.disconnect();
      process.exit(0);
    }
  } catch (error) {
    process.send({ type: 'error', message: error.stack ?? String(error) });
  }
});
