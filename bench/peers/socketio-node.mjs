// Peer: Socket.IO with @socket.io/redis-adapter. Two roles:
//   server   (PORT set): clients connect over WebSocket and `join` a room (a session).
//   emitter  (no PORT): a Socket.IO server with the same adapter and no clients, driven over IPC,
//            that emits stamped events to rooms at a set rate; the adapter carries them through
//            Redis to the serving nodes (the nearest equivalent of a worker publishing a hint).
// Socket.IO keeps no log: a client that was away misses what was emitted meanwhile, and the Redis
// adapter does not support connection-state recovery, so there is no resume from an offset.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { nowMs } from '../lib/stats.mjs';

const redisUrl = process.env.REDIS_URL;
const port = process.env.PORT ? Number(process.env.PORT) : undefined;
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const report = (role) => (error) => console.error(`socket.io ${role} redis error: ${error.message}`);
pub.on('error', report('pub'));
sub.on('error', report('sub'));

if (port) {
  const http = createServer((req, res) => {
    res.writeHead(req.url === '/readyz' ? 200 : 404).end();
  });
  const io = new Server(http, { adapter: createAdapter(pub, sub), transports: ['websocket'] });
  io.on('connection', (socket) => {
    socket.on('join', (room, ack) => {
      socket.join(room);
      ack?.();
    });
  });
  http.listen(port, '127.0.0.1', () => console.log(`socket.io node listening on ${port}`));
} else {
  const io = new Server({ adapter: createAdapter(pub, sub) });
  process.on('message', async (message) => {
    if (message.cmd === 'setup') {
      process.send({ type: 'ready', sessionIds: Array.from({ length: message.sessions }, (_, i) => `room-${i}`) });
    } else if (message.cmd === 'run') {
      process.send(await run(io, message));
    } else if (message.cmd === 'close') {
      io.close();
      pub.disconnect();
      sub.disconnect();
      process.exit(0);
    }
  });
}

async function run(io, { rate, durationMs, sessions, padding = 80 }) {
  const pad = 'x'.repeat(padding);
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
        io.to(`room-${sent % sessions}`).emit('ev', `@${nowMs().toFixed(3)}|${pad}`);
        sent += 1;
      }
    }, 5);
  });
  return { type: 'done', appended: sent, failed: 0, achievedRate: Math.round(sent / ((performance.now() - started) / 1000)) };
}
