// Peer: Vercel's resumable-stream with ioredis. Two roles:
//   server   (PORT set): GET /stream/:id[?skip=N] resumes an existing stream through Redis
//            (resumeExistingStream); the producer process replays its buffer then forwards chunks.
//   producer (no PORT): holds the streams, driven over IPC. Each stream is an SSE text stream of
//            stamped events; the producer keeps every chunk in memory (that is how the library
//            resumes), publishes each new chunk once per listener, and replays the whole joined
//            buffer (sliced by `skipCharacters`) to each resuming listener. When the producer
//            process dies its streams cannot be resumed at all.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { createResumableStreamContext } from 'resumable-stream/ioredis';
import { nowMs } from '../lib/stats.mjs';

const redisUrl = process.env.REDIS_URL;
const port = process.env.PORT ? Number(process.env.PORT) : undefined;
const publisher = new Redis(redisUrl);
const subscriber = new Redis(redisUrl);
publisher.on('error', (e) => console.error(`resumable-stream publisher: ${e.message}`));
subscriber.on('error', (e) => console.error(`resumable-stream subscriber: ${e.message}`));
const context = createResumableStreamContext({ waitUntil: null, publisher, subscriber, keyPrefix: `rs-bench-${process.env.BENCH_RUN ?? ''}` });

async function pipe(stream, res) {
  const reader = stream.getReader();
  res.on('close', () => reader.cancel().catch((e) => console.error(`cancel: ${e.message}`)));
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!res.write(value)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}

if (port) {
  const http = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/readyz') return res.writeHead(200).end();
    const match = /^\/stream\/([\w-]+)$/.exec(url.pathname);
    if (!match) return res.writeHead(404).end();
    try {
      const skip = url.searchParams.get('skip');
      const stream = await context.resumeExistingStream(match[1], skip ? Number(skip) : undefined);
      if (!stream) return res.writeHead(stream === null ? 422 : 404).end();
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      await pipe(stream, res);
    } catch (error) {
      console.error(`resume ${match[1]} failed: ${error.message}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  http.listen(port, '127.0.0.1', () => console.log(`resumable-stream node listening on ${port}`));
} else {
  // producer role: one controller per stream, fed by `run`/`fill`
  const controllers = new Map();
  const drained = new Map();
  const drains = [];
  const frame = (text) => `data: ${text}\n\n`;
  process.on('message', async (message) => {
    try {
      if (message.cmd === 'setup') {
        const ids = Array.from({ length: message.sessions }, (_, i) => `s${process.pid}-${Date.now()}-${i}`);
        for (const id of ids) {
          const stream = await context.createNewResumableStream(id, () =>
            new ReadableStream({ start: (controller) => controllers.set(id, controller) }),
          );
          // the first reader of a resumable stream is the request that made it: drain it here
          drained.set(id, 0);
          const sink = new WritableStream({ write: () => void drained.set(id, drained.get(id) + 1) });
          drains.push(stream.pipeTo(sink).catch((e) => console.error(`drain ${id}: ${e.message}`)));
        }
        process.send({ type: 'ready', sessionIds: ids });
      } else if (message.cmd === 'fill') {
        // `count` equal frames at once (for resume tests), then wait until the library buffered them
        const controller = controllers.get(message.id);
        const target = drained.get(message.id) + message.count;
        const text = frame(`@0|${'x'.repeat(message.padding)}`);
        for (let i = 0; i < message.count; i++) controller.enqueue(text);
        while (drained.get(message.id) < target) await new Promise((r) => setTimeout(r, 20));
        process.send({ type: 'filled', frameChars: text.length, totalChars: target * text.length });
      } else if (message.cmd === 'run') {
        process.send(await run(controllers, message));
      } else if (message.cmd === 'close') {
        for (const controller of controllers.values()) controller.close();
        publisher.disconnect();
        subscriber.disconnect();
        process.exit(0);
      }
    } catch (error) {
      process.send({ type: 'error', message: error.stack ?? String(error) });
    }
  });
}

async function run(controllers, { rate, durationMs, padding = 80 }) {
  const pad = 'x'.repeat(padding);
  const ids = [...controllers.keys()];
  let sent = 0;
  const started = performance.now();
  await new Promise((done) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      if (elapsed >= durationMs) {
        clearInterval(timer);
        done();
        return;
      }
      const due = Math.floor((rate * elapsed) / 1000) - sent;
      for (let i = 0; i < due; i++) {
        controllers.get(ids[sent % ids.length]).enqueue(`data: @${nowMs().toFixed(3)}|${pad}\n\n`);
        sent += 1;
      }
    }, 5);
  });
  return { type: 'done', appended: sent, failed: 0, achievedRate: Math.round(sent / ((performance.now() - started) / 1000)) };
}
