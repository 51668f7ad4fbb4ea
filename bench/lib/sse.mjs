// A minimal SSE client over node:http: one connection per stream, frames parsed incrementally.
import http from 'node:http';
import { nowMs } from './stats.mjs';

/** Incremental `text/event-stream` parser: feed chunks, get {id, event, data} frames. */
export class SseParser {
  constructor(onFrame) {
    this.onFrame = onFrame;
    this.buffer = '';
  }
  feed(text) {
    this.buffer += text;
    let end;
    while ((end = this.buffer.indexOf('\n\n')) !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame = { id: undefined, event: 'message', data: '' };
      let hasField = false;
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        hasField = true;
        if (field === 'id') frame.id = value;
        else if (field === 'event') frame.event = value;
        else if (field === 'data') frame.data = frame.data ? `${frame.data}\n${value}` : value;
        else if (field === 'retry') frame.retry = Number(value);
      }
      if (hasField && (frame.data !== '' || frame.id !== undefined)) this.onFrame(frame);
    }
  }
}

/**
 * Opens one SSE stream (from `localAddress` when given). Calls `onFrame(frame, receivedAtMs)`;
 * resolves `opened` with the HTTP status once headers arrive. `stats` counts bytes and times (ms
 * since the request).
 */
export function openSse(url, { headers = {}, onFrame = () => {}, onClose = () => {}, localAddress } = {}) {
  const startedAt = nowMs();
  const stats = { status: 0, bytes: 0, headersMs: null, firstByteMs: null };
  let request;
  let closedByUs = false;
  const opened = new Promise((resolveOpen, rejectOpen) => {
    request = http.get(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false, localAddress }, (res) => {
      stats.status = res.statusCode;
      stats.headersMs = nowMs() - startedAt;
      resolveOpen(res.statusCode);
      res.setEncoding('utf8');
      const parser = new SseParser((frame) => onFrame(frame, nowMs()));
      res.on('data', (chunk) => {
        if (stats.firstByteMs === null) stats.firstByteMs = nowMs() - startedAt;
        stats.bytes += Buffer.byteLength(chunk);
        parser.feed(chunk);
      });
      res.on('end', () => onClose(closedByUs ? 'client' : 'server'));
      res.on('error', () => onClose(closedByUs ? 'client' : 'error'));
    });
    request.on('error', (error) => {
      rejectOpen(error);
      onClose(closedByUs ? 'client' : 'error', error);
    });
  });
  return {
    opened,
    stats,
    startedAt,
    close() {
      closedByUs = true;
      request.destroy();
    },
  };
}
