import type { ControlFrame } from '../protocol';
import type { EncodedEvent } from './encoded-event';
import type { SessionHead } from './history';

/** The control frames the engine itself decides: `gap` and `live`. */
export type StreamControl = Extract<ControlFrame, { event: 'gap' | 'live' }>;

/**
 * Why the engine stopped a follower before its session ended: the node drains (`drain`: send the
 * client a reconnect hint, then close), the hub closes (`shutdown`: close at once), the follower's
 * resume buffer passed the hub's `maxBufferBytes` (`overflow`), or its resume failed (`failed`).
 * In every case the client resumes from the last event it got, on this node or another.
 */
export type StopReason = 'drain' | 'shutdown' | 'overflow' | 'failed';

/**
 * Where the engine delivers one follower's stream, in the order the client must see it. The engine
 * calls it synchronously from its hot paths: an implementation writes or queues, never blocks, and
 * never throws.
 */
export interface StreamSink {
  /** Stored events with seq > cursor, ascending, each exactly once (except ranges announced by a gap). */
  event(event: EncodedEvent): void;
  /** `gap` and `live` control frames, in order with the events. */
  control(frame: StreamControl): void;
  /** The session is ENDED and everything up to its head was delivered: nothing more follows. */
  ended(headSeq: number): void;
  /** The shared heartbeat tick (HEARTBEAT_MS), with the session's current head. */
  heartbeat(head: SessionHead): void;
  /**
   * The engine stopped following; nothing more follows. Called again with `shutdown` when a
   * draining follower is still open at the drain's deadline: then close at once.
   */
  stopped(reason: StopReason, error?: unknown): void;
}

export interface FollowRequest {
  sessionId: string;
  /** Every event with `seq > cursor` is owed to the follower. */
  cursor: number;
  /** The session's head, from {@link StreamHub.resolveHead} (the caller's 404 check). */
  head: SessionHead;
  /** Overrides MAX_REPLAY_GAP for this follower (a front end that replays a whole turn: Infinity). */
  maxReplayGap?: number;
  /**
   * A drain leaves this follower open until its stream ends by itself (a turn that completes), and
   * stops it only at the drain's deadline (`shutdown`): for front ends whose client cannot resume
   * cleanly from a reconnect hint.
   */
  holdOnDrain?: boolean;
}

/** One follower, as its front end holds it. */
export interface Following {
  /**
   * The front end's response closed, for whatever reason (the client left, or it closed after
   * `ended` or `stopped`): the engine forgets the follower. Idempotent. Call it exactly when the
   * connection is gone, so that a drain waits for connections, not for frames.
   */
  close(): void;
  /** Resolves once {@link close} was called. */
  readonly done: Promise<void>;
}
