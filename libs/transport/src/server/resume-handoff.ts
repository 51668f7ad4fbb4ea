import { historyUrl, type ControlFrame, type GapFrame } from '../protocol';
import type { EncodedEvent } from './encoded-event';
import type { SessionHead } from './history';

export type ResumeOutcome = 'replayed' | 'gap' | 'cursor_ahead';

/** Where a handoff writes its frames, in the order the client must see them. */
export interface HandoffSink {
  event(event: EncodedEvent): void;
  control(frame: ControlFrame): void;
}

export interface ResumeHandoffOptions {
  sessionId: string;
  /** The client's cursor: every event with `seq > cursor` is owed to it. */
  cursor: number;
  maxReplayGap: number;
  /** Events per history read. */
  pageSize: number;
  /** The freshest known head of the session (read when a decision needs it). */
  head(): SessionHead;
  /** Reads up to `limit` events after `afterSeq`, ascending and gap-free. */
  read(afterSeq: number, limit: number): Promise<readonly EncodedEvent[]>;
  sink: HandoffSink;
}

export interface ResumeResult {
  outcome: ResumeOutcome;
  /** Events delivered before the stream went live. */
  replayed: number;
}

/**
 * The resume → live handoff of one stream, and its sequencer afterwards.
 *
 * The caller subscribes to the session's hints first and feeds every live event to {@link offer};
 * {@link run} then reads the backlog after the cursor, merges the live events buffered meanwhile,
 * reads any hole between the two, and goes live with one `live` frame (none when the session is
 * ENDED at head: the caller sends `end`). Guarantees to the sink: every event with `seq > cursor`
 * in seq order, each exactly once, except ranges announced by a `gap` frame (cursor past head, or
 * more than `maxReplayGap` events behind, in which case nothing of the range is read). The reads of
 * a resume do not depend on how far behind the cursor is once it is past the cap.
 *
 * Once live, an offered event is delivered only when it is the next seq; anything else is dropped
 * and the caller reads the missing range (see {@link isBehind}).
 */
export class ResumeHandoff {
  private sent: number;
  private live = false;
  private aborted = false;
  private replayed = 0;
  private readonly pending = new Map<number, EncodedEvent>();
  private pendingByteCount = 0;

  constructor(private readonly options: ResumeHandoffOptions) {
    this.sent = options.cursor;
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

  /** Live events (ascending), from a hint or a shared read. Duplicates and `seq ≤ sent` are dropped. */
  offer(events: readonly EncodedEvent[]): void {
    if (this.aborted) return;
    for (const event of events) {
      if (event.seq <= this.sent) continue;
      if (this.live) {
        if (event.seq === this.sent + 1) this.deliver(event);
      } else if (!this.pending.has(event.seq)) {
        this.pending.set(event.seq, event);
        this.pendingByteCount += event.frame.length;
      }
    }
  }

  /** Resumes from the cursor; resolves once the stream is live (or aborted). */
  async run(): Promise<ResumeResult> {
    const { cursor, maxReplayGap } = this.options;
    const head = this.options.head();
    let outcome: ResumeOutcome = 'replayed';
    if (cursor > head.headSeq) {
      this.skipTo(head.headSeq, 'cursor_ahead');
      outcome = 'cursor_ahead';
    } else if (head.headSeq - cursor > maxReplayGap) {
      this.skipTo(head.headSeq, 'replay_gap_exceeded');
      outcome = 'gap';
    }
    await this.readUntil(head.headSeq);
    for (;;) {
      if (this.aborted) return { outcome, replayed: this.replayed };
      this.drainPending();
      const lowest = this.lowestPending();
      if (lowest === undefined) break;
      // Buffered live events start above what the log gave: read the hole (within the cap).
      if (lowest - 1 - this.sent > maxReplayGap) this.skipTo(lowest - 1, 'replay_gap_exceeded');
      else await this.readUntil(lowest - 1);
    }
    this.live = true;
    const now = this.options.head();
    if (!(now.state === 'ENDED' && this.sent >= now.headSeq)) {
      this.options.sink.control({
        event: 'live',
        data: { sessionId: this.options.sessionId, headSeq: this.sent },
      });
    }
    return { outcome, replayed: this.replayed };
  }

  /** Skips everything up to `toSeq` with one `gap` frame (a catch-up past the cap). */
  skipTo(toSeq: number, reason: GapFrame['reason'] = 'replay_gap_exceeded'): void {
    const head = this.options.head();
    const after = reason === 'cursor_ahead' ? 0 : this.sent;
    this.options.sink.control({
      event: 'gap',
      data: {
        sessionId: this.options.sessionId,
        reason,
        fromSeq: after + 1,
        toSeq,
        headSeq: Math.max(head.headSeq, toSeq),
        state: head.state,
        activity: head.activity,
        historyUrl: historyUrl(this.options.sessionId, after),
      },
    });
    this.sent = toSeq;
    this.drainPending();
  }

  /** Stops delivering (the stream closed); a pending {@link run} resolves after its current read. */
  abort(): void {
    this.aborted = true;
    this.pending.clear();
    this.pendingByteCount = 0;
  }

  private async readUntil(target: number): Promise<void> {
    const { pageSize } = this.options;
    while (!this.aborted) {
      const from = this.sent;
      const page = await this.options.read(from, pageSize);
      if (this.aborted) return;
      for (const event of page) if (event.seq === this.sent + 1) this.deliver(event);
      this.drainPending();
      if (page.length < pageSize || this.sent >= target) return;
      if (this.sent === from) {
        throw new Error(`history after seq ${from} does not start at ${from + 1}`);
      }
    }
  }

  private deliver(event: EncodedEvent): void {
    this.sent = event.seq;
    if (!this.live) this.replayed++;
    this.options.sink.event(event);
  }

  private drainPending(): void {
    if (this.pending.size === 0) return;
    for (let next = this.pending.get(this.sent + 1); next; next = this.pending.get(this.sent + 1)) {
      this.forget(next);
      this.deliver(next);
    }
    for (const event of this.pending.values()) if (event.seq <= this.sent) this.forget(event);
  }

  private forget(event: EncodedEvent): void {
    this.pending.delete(event.seq);
    this.pendingByteCount -= event.frame.length;
  }

  private lowestPending(): number | undefined {
    let lowest: number | undefined;
    for (const seq of this.pending.keys()) if (lowest === undefined || seq < lowest) lowest = seq;
    return lowest;
  }
}
