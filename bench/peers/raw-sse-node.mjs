// Peer: the floor of Node for idle SSE streams. A minimal server on raw `node:http` that holds each
// stream the way Sessionwire does at idle, and nothing more: the same response headers, a `retry:`
// and a `live` frame at open, one shared heartbeat timer writing the same heartbeat frame to every
// stream (one write each), and a Set of open responses. No auth, no log, no store, no broker.
//   GET /stream/:id   an idle SSE stream
//   GET /readyz       200
//   GET /stats        {streams, rss, heapUsed, external, arrayBuffers} (process.memoryUsage)
// Env: PORT, HEARTBEAT_MS (default 15000).
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const heartbeatMs = Number(process.env.HEARTBEAT_MS ?? 15000);
const HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
};
const HEARTBEAT = Buffer.from('event: heartbeat\ndata: {"headSeq":1,"state":"SUSPENDED","activity":"idle"}\n\n');
const streams = new Set();

function forget() {
  streams.delete(this);
}

const server = createServer((req, res) => {
  if (req.url === '/readyz') return res.writeHead(200).end('ok');
  if (req.url === '/stats') {
    const memory = process.memoryUsage();
    return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ streams: streams.size, ...memory }));
  }
  const match = /^\/stream\/([\w-]+)$/.exec(req.url ?? '');
  if (!match) return res.writeHead(404).end();
  req.socket.setNoDelay(true);
  res.writeHead(200, HEADERS);
  res.write(`retry: 1000\n\nevent: live\ndata: {"sessionId":"${match[1]}","headSeq":1}\n\n`);
  streams.add(res);
  res.on('close', forget);
});

setInterval(() => {
  for (const res of streams) res.write(HEARTBEAT);
}, heartbeatMs);

server.listen(port, '127.0.0.1', () => console.log(`raw SSE node listening on ${port}`));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
