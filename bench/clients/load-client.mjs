// A load-generating client process (forked by the harness, so it never shares the servers' or
// the harness's event loop). It opens many streams, takes the receive time of every stamped
// event, and reports to the parent over IPC.
//
// Messages from the parent:
//   {cmd:'open', kind:'sse'|'socketio', targets:[{url, headers?, room?}], reconnect?:{urls:[...]},
//    concurrency?, stampFrom?: 'content' (a stamp in the text) | 'createdAt' (the event's own),
//    localAddress?: the source address of every connection}
//   {cmd:'collect'}  -> {type:'stats', ...}, resets the per-window counts (not liveAfterReconnect);
//    `heartbeatsPerStream` maps a count of heartbeats in the window to the number of open SSE
//    streams that got that many
//   {cmd:'close'}    -> closes everything and exits
import { io } from 'socket.io-client';
import { openSse } from '../lib/sse.mjs';
import { nowMs } from '../lib/stats.mjs';

const STAMP = /@(\d+(?:\.\d+)?)\|/;
const streams = [];
let latencies = [];
let received = 0;
let bytes = 0;
let closes = 0;
let errors = 0;
let frames = 0;
let heartbeats = 0;
let liveAfterReconnect = 0;
let reconnectMs = [];
/** [sessionId, receivedAtMs] of every `turn.completed` frame (createdAt mode). */
let completions = [];

let stampFrom = 'content';
let localAddress;

/** A delta written by a real worker carries no stamp: take Postgres' createdAt (same machine clock). */
function recordCreatedAt(frame, at) {
  if (frame.event === 'turn.completed') completions.push([JSON.parse(frame.data).sessionId, at]);
  if (frame.event !== 'message.delta') return;
  received += 1;
  latencies.push(at - Date.parse(JSON.parse(frame.data).createdAt));
}

function record(text, at) {
  const match = STAMP.exec(text);
  if (!match) return;
  received += 1;
  latencies.push(at - Number(match[1]));
}

function openSseStream(target, reconnect, attempt = 0, lastId = undefined) {
  const state = { lastId, closedAt: null, reconnecting: attempt > 0 };
  const headers = { ...(target.headers ?? {}) };
  if (lastId !== undefined) headers['last-event-id'] = lastId;
  const url = attempt === 0 ? target.url : reconnect.urls[(attempt - 1) % reconnect.urls.length] + target.path;
  const stream = openSse(url, {
    headers,
    localAddress,
    onFrame: (frame, at) => {
      frames += 1;
      if (frame.id !== undefined) state.lastId = frame.id;
      if (frame.event === 'heartbeat') {
        heartbeats += 1;
        stream.heartbeats = (stream.heartbeats ?? 0) + 1;
      }
      else if (frame.event === 'live') {
        if (state.reconnecting) {
          liveAfterReconnect += 1;
          reconnectMs.push(at - state.since);
          state.reconnecting = false;
        }
      } else if (stampFrom === 'createdAt') recordCreatedAt(frame, at);
      else record(frame.data, at);
    },
    onClose: (by) => {
      if (by === 'client') return;
      closes += 1;
      if (!reconnect || stream.dead) return;
      stream.dead = true;
      const since = state.reconnecting ? state.since : nowMs();
      setTimeout(() => {
        const next = openSseStream(target, reconnect, attempt + 1, state.lastId);
        next.state.since = since;
        next.state.reconnecting = true;
        streams[streams.indexOf(stream)] = next;
      }, 20 + Math.random() * 100);
    },
  });
  stream.opened.catch(() => (errors += 1));
  stream.state = state;
  return stream;
}

async function openAll(message) {
  const { kind, targets, reconnect, concurrency = 200 } = message;
  stampFrom = message.stampFrom ?? 'content';
  localAddress = message.localAddress;
  let failed = 0;
  for (let i = 0; i < targets.length; i += concurrency) {
    const batch = targets.slice(i, i + concurrency).map(async (target) => {
      if (kind === 'socketio') {
        const socket = io(target.url, { transports: ['websocket'], forceNew: true, reconnection: false });
        socket.on('ev', (payload) => record(payload, nowMs()));
        await new Promise((ok, fail) => {
          socket.once('connect', ok);
          socket.once('connect_error', fail);
        });
        await new Promise((ok) => socket.emit('join', target.room, ok));
        streams.push({ close: () => socket.close() });
        return;
      }
      const stream = openSseStream(target, reconnect);
      streams.push(stream);
      const status = await stream.opened;
      if (status !== 200) throw new Error(`status ${status}`);
    });
    for (const result of await Promise.allSettled(batch)) if (result.status === 'rejected') failed += 1;
  }
  process.send({ type: 'opened', count: targets.length - failed, failed });
}

process.on('message', (message) => {
  if (message.cmd === 'open') {
    openAll(message).catch((error) => process.send({ type: 'error', message: String(error) }));
  } else if (message.cmd === 'collect') {
    bytes = streams.reduce((sum, s) => sum + (s.stats?.bytes ?? 0), 0);
    const heartbeatsPerStream = {};
    for (const stream of streams) {
      if (!stream.stats || stream.dead) continue;
      const count = stream.heartbeats ?? 0;
      heartbeatsPerStream[count] = (heartbeatsPerStream[count] ?? 0) + 1;
      stream.heartbeats = 0;
    }
    process.send({
      type: 'stats',
      received,
      latencies,
      bytes,
      closes,
      errors,
      frames,
      heartbeats,
      liveAfterReconnect,
      reconnectMs,
      heartbeatsPerStream,
      completions,
    });
    latencies = [];
    completions = [];
    received = 0;
    reconnectMs = [];
    heartbeats = 0;
    frames = 0;
  } else if (message.cmd === 'close') {
    for (const stream of streams) stream.close();
    setTimeout(() => process.exit(0), 50);
  }
});
process.on('disconnect', () => process.exit(0));
