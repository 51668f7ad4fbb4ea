import type { NewEvent } from '@sessionwire/transport/protocol';

export type AppendEvents = (events: NewEvent[]) => Promise<unknown>;

/**
 * The ordered output of one turn. Text deltas are merged and written at most every `flushMs`
 * (while an append is in flight they keep merging), so a token storm becomes a few rows. Other
 * events are written at once, with the text before them in the same append; the log keeps the
 * order in which the agent produced things. Appends run one at a time, in order. The first failed
 * append stops all later ones and is reported through `onFailure`.
 */
export class TurnOutput {
  /** Every delta of the turn, concatenated: the reply's text. */
  private fullText = '';
  /** Output not yet written, in order; adjacent deltas are merged. */
  private pending: NewEvent[] = [];
  private timer?: NodeJS.Timeout;
  private queue: Promise<void> = Promise.resolve();
  private failure?: { error: unknown };
  private closed = false;
  private abandoned = false;
  firstTextAt?: number;

  constructor(
    private readonly turnId: string,
    private readonly append: AppendEvents,
    private readonly flushMs: number,
    private readonly onFailure: (error: unknown) => void = () => undefined,
  ) {}

  get text(): string {
    return this.fullText;
  }

  delta(text: string): void {
    if (this.closed || text.length === 0) return;
    this.firstTextAt ??= performance.now();
    this.fullText += text;
    const last = this.pending.at(-1);
    if (last?.type === 'message.delta') last.data.text += text;
    else this.pending.push({ type: 'message.delta', data: { turnId: this.turnId, text } });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.flushMs);
  }

  /** Writes an event (after the text before it) without waiting for the flush interval. */
  event(event: NewEvent): void {
    if (this.closed) return;
    this.pending.push(event);
    this.flush();
  }

  /**
   * Writes what is pending and `final` in one append after everything queued, then accepts
   * nothing more. Rejects with the first append failure of the turn.
   */
  async close(final: NewEvent[]): Promise<void> {
    if (this.closed) throw new Error(`turn ${this.turnId} output is already closed`);
    this.clearTimer();
    this.pending.push(...final);
    this.closed = true;
    this.flush();
    await this.queue;
    if (this.failure) throw this.failure.error;
  }

  /** Drops pending output and writes nothing more (the lease is gone). */
  abandon(): void {
    this.closed = true;
    this.abandoned = true;
    this.pending = [];
    this.clearTimer();
  }

  /** Resolves when every append queued so far has finished. */
  async settled(): Promise<void> {
    await this.queue;
  }

  /** Queues one append of everything pending at the time it runs. */
  private flush(): void {
    this.queue = this.queue.then(async () => {
      if (this.failure || this.abandoned || this.pending.length === 0) return;
      const events = this.pending;
      this.pending = [];
      try {
        await this.append(events);
      } catch (error) {
        this.failure = { error };
        this.clearTimer();
        if (!this.abandoned) this.onFailure(error);
      }
    });
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
