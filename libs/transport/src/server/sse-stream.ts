import type { ServerResponse } from 'node:http';
import { encodeControlFrame, encodeRetry } from '../protocol';
import type { EncodedEvent } from './encoded-event';
import type { SessionHead } from './history';
import type { StreamHub } from './stream-hub';
import { isEndedAt } from './stream-rules';
import type {
  FollowRequest,
  Following,
  StopReason,
  StreamControl,
  StreamSink,
} from './stream-sink';
import { StreamWriter, type StreamWriterOptions } from './stream-writer';

/** Response headers of every stream (PROTOCOL §4). No compression. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
};

/** A stream request, with what the SSE front end adds to the follow request. */
export interface SseRequest extends FollowRequest {
  /** More response headers (CORS, a request id), sent with the stream's own in one `writeHead`. */
  headers?: Readonly<Record<string, string>>;
  /** The id the request is known by (its log line), kept on the stream. */
  requestId?: string;
  /** When the request arrived (epoch ms), kept on the stream (its log line). */
  startedAt?: number;
  /** The key of the credential it was opened with (never the secret), kept on the stream. */
  credentialKey?: string;
}

/** What every SSE stream of a front end shares (one object, made once). */
export interface SseStreamOptions extends StreamWriterOptions {
  /** The `retry:` sent when a stream opens (default 1000 ms). */
  retryMs?: number;
  /** Called once when a stream's response closed (request logs). */
  onClose?(stream: SseStream): void;
}

/**
 * The SSE front end of one follower: the engine's deliveries written as SSE frames (PROTOCOL §4).
 * Stored events go out as the engine's shared frames; `end` after the last one, then the response
 * ends; on a drain a random `retry:` of 0–1000 ms, then the response ends; on any other stop the
 * connection is dropped and the client resumes from its last id.
 */
export class SseStream extends StreamWriter implements StreamSink {
  following: Following | undefined;
  readonly sessionId: string;
  readonly requestId: string | undefined;
  readonly startedAt: number;
  readonly credentialKey: string | undefined;
  private live = false;

  constructor(
    response: ServerResponse,
    request: SseRequest,
    protected override readonly options: SseStreamOptions,
  ) {
    super(response, options);
    this.sessionId = request.sessionId;
    this.requestId = request.requestId;
    this.startedAt = request.startedAt ?? Date.now();
    this.credentialKey = request.credentialKey;
  }

  event(event: EncodedEvent): void {
    // Publish-to-write latency is measured for live events only, not for replayed history.
    this.send(event.frame, this.live ? event.createdAtMs : undefined);
  }

  control(frame: StreamControl): void {
    if (frame.event === 'live') this.live = true;
    this.send(Buffer.from(encodeControlFrame(frame)));
  }

  ended(headSeq: number): void {
    const frame = encodeControlFrame({
      event: 'end',
      data: { sessionId: this.sessionId, headSeq },
    });
    this.send(Buffer.from(frame));
    this.end();
  }

  heartbeat(head: SessionHead): void {
    this.send(heartbeatFrame(head));
  }

  stopped(reason: StopReason): void {
    if (reason !== 'drain') return this.destroy();
    this.send(Buffer.from(encodeRetry(jitterMs())));
    this.end();
  }

  protected override closed(): void {
    this.following?.close();
    this.options.onClose?.(this);
  }
}

/**
 * Serves one SSE stream on a raw Node response, as a consumer of {@link StreamHub.follow}. The
 * caller has authenticated and looked the session up (404). A cursor at the head of an ENDED
 * session gets `204` (a browser's EventSource then stops); otherwise the headers and `retry:` go
 * out at once, before the backlog is read, and the follower's frames follow. `HEAD` gets the
 * headers a `GET` would get, and nothing is followed. A draining hub
 * answers with a random `retry:` and closes. Returns the stream, or undefined when nothing is
 * followed (204, draining, or the client already left).
 */
export function serveSse(
  hub: StreamHub,
  response: ServerResponse,
  request: SseRequest,
  options: SseStreamOptions,
): SseStream | undefined {
  if (response.closed || response.destroyed) return undefined;
  if (isEndedAt(request.head, request.cursor)) {
    response.writeHead(204, { ...request.headers, 'Cache-Control': 'no-cache' });
    response.end();
    return undefined;
  }
  response.socket?.setNoDelay(true);
  response.writeHead(200, request.headers ? { ...request.headers, ...SSE_HEADERS } : SSE_HEADERS);
  if (response.req?.method === 'HEAD') {
    response.end();
    return undefined;
  }
  if (!hub.isAccepting) {
    response.end(encodeRetry(jitterMs()));
    return undefined;
  }
  response.write(encodeRetry(options.retryMs ?? 1000));
  const stream = new SseStream(response, request, options);
  stream.following = hub.follow(request, stream);
  return stream;
}

/** The heartbeat frame of the last head snapshot asked for: one encoding per session and tick. */
let lastHead: SessionHead | undefined;
let lastHeartbeat = Buffer.alloc(0);
function heartbeatFrame(head: SessionHead): Buffer {
  if (head !== lastHead) {
    const { headSeq, state, activity } = head;
    lastHeartbeat = Buffer.from(
      encodeControlFrame({ event: 'heartbeat', data: { headSeq, state, activity } }),
    );
    lastHead = head;
  }
  return lastHeartbeat;
}

function jitterMs(): number {
  return Math.floor(Math.random() * 1001);
}
