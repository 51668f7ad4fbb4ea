import { historyUrl, type GapReason } from '../protocol';
import type { EncodedEvent } from './encoded-event';
import type { SessionHead } from './history';
import { readPages } from './read-pages';
import { expiredThrough, isEndedAt, isPastReplayCap, type LogPage } from './stream-rules';
import type { StreamControl } from './stream-sink';

export type ResumeOutcome = 'replayed' | 'gap' | 'cursor_ahead' | 'history_expired';

/** Where a handoff writes its frames, in the order the client must see them. */
export interface HandoffSink {
  event(event: EncodedEvent): void;
  control(frame: StreamControl): void;
}

/** A page of the session's log (see {@link LogPage}), read for one stream or shared by several. */
export interface ReadPage extends LogPage {
  readonly events: readonly EncodedEvent[];
}

/** The session as a handoff reads it. */
export interface HandoffSource {
  readonly sessionId: string;
  /** The freshest known head of the session (read when a decision needs it). */
  readonly head: SessionHead;
  /** Events per history read. */
  readonly pageSize: number;
  /**
   * Up to `pageSize` events with `seq > afterSeq`, ascending, as the log held them at some moment
   * after the call, with the head known at the call (`headSeq`).
   */
  read(afterSeq: number): Promise<ReadPage>;
}

export interface ResumeResult {
  outcome: ResumeOutcome;
  /** Events delivered before the stream went live. */
  replayed: number;
}

const OUTCOMES: Record<GapReason, ResumeOutcome> = {
  cursor_ahead: 'cursor_ahead',
  replay_gap_exceeded: 'gap',
  history_expired: 'history_expired',
};

/**
 * The resume → live handoff of one stream, and its sequencer afterwards: the stream's resume state.
 *
 * The caller subscribes to the session's hints first and feeds every live event to {@link offer};
 * {@link run} then reads the backlog after the cursor, merges the live events buffered meanwhile,
 * reads any hole between the two, and goes live with one `live` frame (none when the session is
 * ENDED at head: the caller sends `end`). Guarantees to the sink: every event with `seq > cursor`
 * in seq order, each exactly once, except ranges announced by a `gap` frame (cursor past head;
 * more than `maxReplayGap` events behind, in which case nothing of the range is read; or events
 * that retention removed from the log). The reads of a resume do not depend on how far behind the
 * cursor is once it is past the cap.
 *
 * Once live, an offered event is delivered only when it is the next seq; anything else is dropped
 * and the caller reads the missing range (see {@link catchUpFrom} and {@link takeShared}).
 */
export class ResumeHandoff<
  Source extends HandoffSource = HandoffSource,
  Sink extends HandoffSink = HandoffSink,
> {
  private sent: number;
  private live = false;
  private aborted = false;
  private replayed = 0;
  private firstGap: GapReason | undefined;
  /** Live events buffered while the backlog is read, by seq; dropped once live. */
  private pending: Map<number, EncodedEvent> | undefined;
  private pendingByteCount = 0;

  constructor(
    protected readonly source: Source,
    protected readonly sink: Sink,
    /** The client's cursor: every event with `seq > cursor` is owed to it. */
    readonly cursor: number,
    readonly maxReplayGap: number,
  ) {
    this.sent = cursor;
  }

  /** Seq of the last event delivered or skipped by a gap. */
  get sentSeq(): number {
    return this.sent;
  }

  get isLive(): boolean {
    return this.live;
  }

  /** Bytes of live events buffered while the backlog is read. */
  get pendingBytes(): number {
    return this.pendingByteCount;
  }

  /** True when the stream is live and has not reached `headSeq`. */
  isBehind(headSeq: number): boolean {
    return this.live && !this.aborted && this.sent < headSeq;
  }

  /** Live events (ascending), from a hint. Duplicates and `seq ≤ sent` are dropped. */
  offer(events: readonly EncodedEvent[]): void {
    if (this.aborted) return;
    for (const event of events) {
      if (event.seq <= this.sent) continue;
      if (this.live) {
        if (event.seq === this.sent + 1) this.deliver(event);
      } else {
        this.pending ??= new Map();
        if (this.pending.has(event.seq)) continue;
        this.pending.set(event.seq, event);
        this.pendingByteCount += event.frame.length;
      }
    }
  }

  /** Resumes from the cursor; resolves once the stream is live (or aborted). */
  async run(): Promise<ResumeResult> {
    const { headSeq } = this.source.head;
    if (this.cursor > headSeq) this.skipTo(headSeq, 'cursor_ahead');
    else this.skipPastCap(headSeq);
    // At least one read, even after a gap: events committed between the lookup and the subscription.
    await this.readUntil(headSeq);
    for (;;) {
      if (this.aborted) return this.result();
      this.drainPending();
      const lowest = this.lowestPending();
      if (lowest === undefined) break;
      // Buffered live events start above what the log gave: read the hole (within the cap).
      if (!this.skipPastCap(lowest - 1)) await this.readUntil(lowest - 1);
    }
    this.live = true;
    this.pending = undefined;
    if (!isEndedAt(this.source.head, this.sent)) {
      this.emitControl({
        event: 'live',
        data: { sessionId: this.source.sessionId, headSeq: this.sent },
      });
    }
    return this.result();
  }

  /**
   * The start of a live catch-up to `headSeq` whose reads the session's streams share: applies the
   * replay cap (past it, one gap and nothing to read) and returns the seq this stream needs the
   * log read after, or undefined when it needs no read.
   */
  catchUpFrom(headSeq: number): number | undefined {
    if (!this.isBehind(headSeq) || this.skipPastCap(headSeq)) return undefined;
    return this.sent;
  }

  /** A page of a shared read: delivered as the stream's own once live, buffered before. */
  takeShared(page: ReadPage): void {
    if (this.aborted) return;
    if (this.live) this.take(page);
    else this.offer(page.events);
  }

  /** Stops delivering (the stream closed); a pending {@link run} resolves after its current read. */
  abort(): void {
    this.aborted = true;
    this.pending = undefined;
    this.pendingByteCount = 0;
  }

  /** Writes a stored event to the sink (a subclass may observe it). */
  protected emitEvent(event: EncodedEvent): void {
    this.sink.event(event);
  }

  /** Writes a control frame to the sink (a subclass may observe it). */
  protected emitControl(frame: StreamControl): void {
    this.sink.control(frame);
  }

  /** The replay cap (see {@link isPastReplayCap}): past it, skips to `targetSeq` with one gap. */
  private skipPastCap(targetSeq: number): boolean {
    if (!isPastReplayCap(this.sent, targetSeq, this.maxReplayGap)) return false;
    this.skipTo(targetSeq, 'replay_gap_exceeded');
    return true;
  }

  /** Skips everything up to `toSeq` with one `gap` frame. */
  private skipTo(toSeq: number, reason: GapReason): void {
    const { head, sessionId } = this.source;
    const after = reason === 'cursor_ahead' ? 0 : this.sent;
    if (!this.live) this.firstGap ??= reason;
    this.emitControl({
      event: 'gap',
      data: {
        sessionId,
        reason,
        fromSeq: after + 1,
        toSeq,
        headSeq: Math.max(head.headSeq, toSeq),
        state: head.state,
        activity: head.activity,
        historyUrl: historyUrl(sessionId, after),
      },
    });
    this.sent = toSeq;
    this.drainPending();
  }

  private readUntil(targetSeq: number): Promise<void> {
    return readPages(
      this.sent,
      targetSeq,
      this.source.pageSize,
      (afterSeq) => this.source.read(afterSeq),
      (page) => (this.aborted ? undefined : this.take(page)),
    );
  }

  /** Delivers what a page holds for this stream, after a `history_expired` gap if retention removed some. */
  private take(page: ReadPage): number {
    const expired = expiredThrough(this.sent, page);
    if (expired !== undefined) this.skipTo(expired, 'history_expired');
    for (const event of page.events) if (event.seq === this.sent + 1) this.deliver(event);
    this.drainPending();
    return this.sent;
  }

  private deliver(event: EncodedEvent): void {
    this.sent = event.seq;
    if (!this.live) this.replayed++;
    this.emitEvent(event);
  }

  private drainPending(): void {
    const pending = this.pending;
    if (!pending || pending.size === 0) return;
    for (let next = pending.get(this.sent + 1); next; next = pending.get(this.sent + 1)) {
      this.forget(pending, next);
      this.deliver(next);
    }
    for (const event of pending.values()) if (event.seq <= this.sent) this.forget(pending, event);
  }

  private forget(pending: Map<number, EncodedEvent>, event: EncodedEvent): void {
    pending.delete(event.seq);
    this.pendingByteCount -= event.frame.length;
  }

  private lowestPending(): number | undefined {
    let lowest: number | undefined;
    for (const seq of this.pending?.keys() ?? [])
      if (lowest === undefined || seq < lowest) lowest = seq;
    return lowest;
  }

  private result(): ResumeResult {
    return {
      outcome: this.firstGap ? OUTCOMES[this.firstGap] : 'replayed',
      replayed: this.replayed,
    };
  }
}
