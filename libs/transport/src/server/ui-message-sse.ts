import type { ServerResponse } from 'node:http';
import {
  encodeUiChunks,
  TurnChunks,
  UI_MESSAGE_STREAM_HEADERS,
  UI_STREAM_DONE,
  UI_STREAM_HEARTBEAT,
  type UiMessageChunk,
} from '../ai-sdk';
import type { EncodedEvent } from './encoded-event';
import type { StreamHub } from './stream-hub';
import { isEndedAt } from './stream-rules';
import type { FollowRequest, Following, StreamControl, StreamSink } from './stream-sink';
import { StreamWriter, type StreamWriterOptions } from './stream-writer';

/** A request for one turn as a UI message stream (the AI SDK's chat transport, PROTOCOL §9). */
export interface UiStreamRequest extends FollowRequest {
  /** Stream the turn that answers this `message.user` (a POST); else the first turn after `cursor`. */
  inputSeq?: number;
  /** More response headers (CORS, a request id), sent with the stream's own in one `writeHead`. */
  headers?: Readonly<Record<string, string>>;
  requestId?: string;
  startedAt?: number;
}

export interface UiStreamOptions extends StreamWriterOptions {
  /** Called once when a stream's response closed (request logs). */
  onClose?(stream: UiMessageStream): void;
}

const HEARTBEAT = Buffer.from(UI_STREAM_HEARTBEAT);
const DONE = Buffer.from(UI_STREAM_DONE);

/**
 * The AI SDK front end of one follower: one turn of the session, from its `turn.started` to its
 * `turn.completed`, as UI message chunks (see {@link TurnChunks}), then `[DONE]` and the end of
 * the response. The stream never ends cleanly without `finish` (the SDK would take a truncated
 * answer for a whole one): when the engine stops it (drain deadline, shutdown, overflow, failure)
 * the connection is dropped, which the SDK reports as an error, and the client resumes.
 */
export class UiMessageStream extends StreamWriter implements StreamSink {
  following: Following | undefined;
  readonly sessionId: string;
  readonly requestId: string | undefined;
  readonly startedAt: number;
  private readonly turn: TurnChunks;
  private live = false;

  constructor(
    response: ServerResponse,
    request: UiStreamRequest,
    protected override readonly options: UiStreamOptions,
  ) {
    super(response, options);
    this.sessionId = request.sessionId;
    this.requestId = request.requestId;
    this.startedAt = request.startedAt ?? Date.now();
    this.turn = new TurnChunks({ inputSeq: request.inputSeq });
  }

  event(event: EncodedEvent): void {
    this.write(this.turn.map(event.stored), this.live ? event.createdAtMs : undefined);
  }

  control(frame: StreamControl): void {
    if (frame.event === 'live') this.live = true;
    else if (frame.event === 'gap') {
      // Retention removed part of the turn: it cannot be replayed whole.
      this.write(
        this.turn.abort(this.sessionId, {
          code: 'history_expired',
          message: `events of the turn up to seq ${frame.data.toSeq} were removed by retention`,
        }),
      );
    }
  }

  ended(): void {
    this.write(this.turn.abort(this.sessionId));
  }

  heartbeat(): void {
    this.send(HEARTBEAT);
  }

  stopped(): void {
    this.destroy();
  }

  /** Answers at once, without following (a turn of an ENDED session that never began). */
  abortNow(): void {
    this.write(this.turn.abort(this.sessionId));
  }

  private write(chunks: UiMessageChunk[], createdAtMs?: number): void {
    if (chunks.length > 0) this.send(Buffer.from(encodeUiChunks(chunks)), createdAtMs);
    if (this.turn.finished && this.isOpen) {
      this.send(DONE);
      this.end();
    }
  }

  protected override closed(): void {
    this.following?.close();
    this.options.onClose?.(this);
  }
}

/**
 * Serves one turn as a UI message stream on a raw Node response, as a consumer of
 * {@link StreamHub.follow} with no replay cap (a turn is replayed whole, from the cursor the
 * caller chose: just before its `turn.started`). The caller has authenticated, looked the session
 * up and decided that a turn is running or waiting (else it answers 204). The follower is held
 * through a drain until its turn completes (see `FollowRequest.holdOnDrain`). Returns the stream,
 * or undefined when nothing is followed.
 */
export function serveUiMessageStream(
  hub: StreamHub,
  response: ServerResponse,
  request: UiStreamRequest,
  options: UiStreamOptions,
): UiMessageStream | undefined {
  if (response.closed || response.destroyed) return undefined;
  response.socket?.setNoDelay(true);
  const headers = request.headers
    ? { ...request.headers, ...UI_MESSAGE_STREAM_HEADERS }
    : UI_MESSAGE_STREAM_HEADERS;
  response.writeHead(200, headers);
  const stream = new UiMessageStream(response, request, options);
  if (isEndedAt(request.head, request.cursor)) {
    stream.abortNow();
    return stream;
  }
  stream.following = hub.follow(
    { ...request, maxReplayGap: Number.POSITIVE_INFINITY, holdOnDrain: true },
    stream,
  );
  return stream;
}
