import type {
  Activity,
  GapFrame,
  HeartbeatFrame,
  LiveFrame,
  Problem,
  SessionState,
  StoredEvent,
} from '../protocol';
import type { BackoffOptions } from './backoff';
import type { HttpError, OfflineError } from './errors';
import type { ConnectionOptions } from './http';
import type { OfflineInfo } from './offline-watch';

export interface SessionStreamOptions extends ConnectionOptions {
  /** Start after this seq (0 = from the first event). Default 0. */
  after?: number;
  /** Send the token as `?access_token=` instead of an `Authorization` header. */
  tokenInQuery?: boolean;
  /**
   * The server's heartbeat interval (ms). With no byte for twice this long the connection is
   * considered dead and is replaced. Default 15000.
   */
  heartbeatMs?: number;
  /** Reconnect pacing. The server's `retry:` is the floor. */
  backoff?: BackoffOptions;
  /**
   * A connection that delivered new events, or stayed open this long (ms), resets the backoff to
   * its first step. Default 10000.
   */
  resetBackoffAfterMs?: number;
  /** Items an async iterator may hold before reading pauses (back-pressure). Default 1000. */
  bufferSize?: number;
  /** Page size for `backfill`. Default 1000. */
  backfillPageSize?: number;
  /** Timeout of each `backfill` request (ms). Default 10000. */
  requestTimeoutMs?: number;
}

/** Why a stream stopped for good. */
export type StreamCloseReason =
  | 'ended' // an `end` frame: the session is ENDED and everything was delivered
  | 'no_content' // 204: the session is ENDED and the cursor is at head
  | 'unauthorized' // 401
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'rejected' // any other definitive 4xx (e.g. 400 for a bad cursor)
  | 'offline' // no server answered for `giveUpAfterMs`
  | 'closed'; // `close()` was called

export interface StreamClose {
  reason: StreamCloseReason;
  status?: number;
  problem?: Problem;
  error?: HttpError | OfflineError;
}

/** The session's state and activity as last reported by the stream. */
export interface StreamStatus {
  state: SessionState | undefined;
  activity: Activity | undefined;
  headSeq: number;
}

export interface StreamReconnect {
  /** 1 for the first retry after a failure, growing until a connection makes progress. */
  attempt: number;
  delayMs: number;
  error: Error;
}

export interface SessionStreamEvents extends Record<string, unknown> {
  /**
   * A stored event, in seq order, never twice. An agent's failure is one of them, of type
   * `agent.error`; the `error` event below is the SDK's own.
   */
  event: StoredEvent;
  /** A skipped range: fill it with `backfill(gap)` if the app needs it. */
  gap: GapFrame;
  /** Catch-up is done on this connection. */
  live: LiveFrame;
  heartbeat: HeartbeatFrame;
  /** State or activity changed. */
  state: StreamStatus;
  /** A connection was opened (200). */
  open: { url: string; cursor: number };
  /** The connection was lost; the next attempt starts after `delayMs`. */
  reconnect: StreamReconnect;
  /**
   * No connection for `offlineAfterMs`: the stream keeps retrying (until `giveUpAfterMs`, if set).
   * Without a listener, the SDK writes one `console.warn` line per period instead.
   */
  offline: OfflineInfo;
  /** A connection opened again after `offline`. */
  online: { offlineMs: number };
  /**
   * A non-fatal transport problem: a malformed frame, a failed connection attempt. Never a stored
   * event (an agent's failure arrives as an `event` of type `agent.error`).
   */
  error: Error;
  /** The stream stopped for good. Emitted once. */
  close: StreamClose;
}

/** What an async iterator over the stream yields. */
export type StreamItem =
  | { kind: 'event'; event: StoredEvent }
  | { kind: 'gap'; gap: GapFrame }
  | { kind: 'live'; live: LiveFrame };
