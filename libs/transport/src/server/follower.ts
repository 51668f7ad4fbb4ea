import type { EncodedEvent } from './encoded-event';
import type { SessionHead } from './history';
import { ResumeHandoff, type ReadPage } from './resume-handoff';
import type { FanoutMember, SessionFanout } from './session-fanout';
import type { StreamMetrics } from './stream-metrics';
import { isEndedAt } from './stream-rules';
import type { Following, StopReason, StreamControl, StreamSink } from './stream-sink';

/** What a follower needs from its hub (one object per hub, shared by every follower). */
export interface FollowerHost {
  readonly metrics: StreamMetrics;
  /** Most bytes of live events a follower may buffer while it resumes. */
  readonly maxBufferBytes: number;
  /** The follower takes nothing more from its session (it ended, stopped or closed). */
  leave(follower: Follower): void;
  /** The follower's front end closed it: forget it. */
  forget(follower: Follower): void;
}

/** open → ended | stopped → closed; `stopped` may repeat (a drain, then its deadline). */
type Phase = 'open' | 'ended' | 'stopped' | 'closed';

interface Settled {
  promise: Promise<void>;
  resolve(): void;
}

/**
 * One stream inside the engine: its resume state (it is its own {@link ResumeHandoff}), the `end`
 * decision, and its lifecycle towards its front end's {@link StreamSink}. Idle, it holds no
 * closure, timer or promise: {@link done} is made only when someone asks for it.
 */
export class Follower
  extends ResumeHandoff<SessionFanout, StreamSink>
  implements FanoutMember, Following
{
  private phase: Phase = 'open';
  private settled: Settled | undefined;

  constructor(
    private readonly host: FollowerHost,
    fanout: SessionFanout,
    sink: StreamSink,
    cursor: number,
    maxReplayGap: number,
    /** See `FollowRequest.holdOnDrain`. */
    readonly holdOnDrain = false,
  ) {
    super(fanout, sink, cursor, maxReplayGap);
  }

  get fanout(): SessionFanout {
    return this.source;
  }

  /** True until the follower ended, stopped or closed. */
  get isOpen(): boolean {
    return this.phase === 'open';
  }

  get done(): Promise<void> {
    if (this.phase === 'closed') return Promise.resolve();
    this.settled ??= settledPromise();
    return this.settled.promise;
  }

  override offer(events: readonly EncodedEvent[]): void {
    super.offer(events);
    this.afterTake();
  }

  override takeShared(page: ReadPage): void {
    super.takeShared(page);
    this.afterTake();
  }

  override catchUpFrom(headSeq: number): number | undefined {
    const after = super.catchUpFrom(headSeq);
    if (after === undefined) this.settle();
    return after;
  }

  /** Sends `ended` once the stream is live and ended at head (see {@link isEndedAt}). */
  settle(): void {
    if (this.phase !== 'open' || !this.isLive || !isEndedAt(this.source.head, this.sentSeq)) return;
    this.phase = 'ended';
    this.abort();
    this.host.leave(this);
    this.sink.ended(this.sentSeq);
  }

  heartbeat(head: SessionHead): void {
    if (this.phase === 'open') this.sink.heartbeat(head);
  }

  /** The engine stops following (drain, shutdown, overflow, failure). */
  stop(reason: StopReason, error?: unknown): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'open') this.host.leave(this);
    this.phase = 'stopped';
    this.abort();
    this.sink.stopped(reason, error);
  }

  close(): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'open') this.host.leave(this);
    this.phase = 'closed';
    this.abort();
    this.host.forget(this);
    this.settled?.resolve();
  }

  protected override emitControl(frame: StreamControl): void {
    if (frame.event === 'gap') this.host.metrics.gapSent();
    super.emitControl(frame);
  }

  private afterTake(): void {
    if (this.pendingBytes <= this.host.maxBufferBytes) return this.settle();
    this.host.metrics.slowClientClosed();
    this.stop('overflow');
  }
}

function settledPromise(): Settled {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
