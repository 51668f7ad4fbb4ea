import type { EncodedEvent } from './encoded-event';

export interface TailCacheLimits {
  /** Most events kept. */
  maxEvents: number;
  /** Most frame bytes kept. */
  maxBytes: number;
}

/** Default byte bound of one session's tail cache. */
export const DEFAULT_TAIL_CACHE_BYTES = 256 * 1024;

/**
 * The most recent events of one session seen by this node, as one contiguous run `[from..to]` of
 * the log (no hole, ascending seq), so that streams resuming from nearby cursors share one read.
 *
 * Invariant: every event held is a committed event of the log, and the run has no hole. Events
 * from hints only extend the run (`seq === to + 1`); a hint past a hole changes nothing, and the
 * run stays put until a read fills the hole. A read page (gap-free by contract) that overlaps or
 * touches the run merges into it; a page wholly above the run replaces it (the newer tail wins).
 * Bounded by count and bytes, evicting the oldest events first.
 */
export class TailCache {
  private events: EncodedEvent[] = [];
  private byteCount = 0;

  constructor(private readonly limits: TailCacheLimits) {}

  /** Seq of the last event held, or undefined when empty. */
  get to(): number | undefined {
    return this.events.at(-1)?.seq;
  }

  /** Seq of the first event held, or undefined when empty. */
  get from(): number | undefined {
    return this.events[0]?.seq;
  }

  get size(): number {
    return this.events.length;
  }

  get bytes(): number {
    return this.byteCount;
  }

  /** Live events from a hint, ascending: extends the run only where they follow it directly. */
  addHinted(events: readonly EncodedEvent[]): void {
    for (const event of events) {
      const to = this.to;
      if (to === undefined || event.seq === to + 1) this.push(event);
    }
    this.evict();
  }

  /** A gap-free ascending page read from the log. */
  addRead(page: readonly EncodedEvent[]): void {
    if (page.length === 0) return;
    const from = this.from;
    const to = this.to;
    const first = page[0].seq;
    const last = page[page.length - 1].seq;
    if (from === undefined || to === undefined || first > to + 1) {
      this.clear();
      for (const event of page) this.push(event);
    } else if (last >= from - 1) {
      const older = page.filter((event) => event.seq < from);
      if (older.length > 0) {
        this.events = [...older, ...this.events];
        for (const event of older) this.byteCount += event.frame.length;
      }
      for (const event of page) if (event.seq > to) this.push(event);
    }
    this.evict();
  }

  /**
   * Up to `limit` events with `seq > afterSeq`, when the run holds `afterSeq + 1` or ends exactly
   * at `afterSeq` (then empty); undefined when the run does not reach that far down or up.
   */
  slice(afterSeq: number, limit: number): EncodedEvent[] | undefined {
    const from = this.from;
    const to = this.to;
    if (from === undefined || to === undefined) return undefined;
    if (afterSeq + 1 < from || afterSeq > to) return undefined;
    const start = afterSeq + 1 - from;
    return this.events.slice(start, start + limit);
  }

  clear(): void {
    this.events = [];
    this.byteCount = 0;
  }

  private push(event: EncodedEvent): void {
    this.events.push(event);
    this.byteCount += event.frame.length;
  }

  private evict(): void {
    const { maxEvents, maxBytes } = this.limits;
    let drop = 0;
    let bytes = this.byteCount;
    while (
      drop < this.events.length &&
      (this.events.length - drop > maxEvents || bytes > maxBytes)
    ) {
      bytes -= this.events[drop].frame.length;
      drop++;
    }
    if (drop === 0) return;
    this.events = this.events.slice(drop);
    this.byteCount = bytes;
  }
}
