import type { StoredEvent } from '@sessionwire/transport/protocol';
import { eq, sql } from 'drizzle-orm';
import type { Database } from './database';
import { sessions } from './schema';
import { runNamed } from './named-statement';

const DAY_MS = 86_400_000;
/** Days remembered per session (the newest ones: reads are mostly near the head). */
const MAX_DAYS = 8;

interface Known {
  /** The UTC day (days since the epoch) the session was created. */
  createdDay: number;
  /**
   * Pairs of [UTC day, lowest seq seen written on that day], flat and small-integer only (a few
   * dozen bytes per session, where a Map costs hundreds); replaced, never edited, on a change.
   */
  days: readonly number[];
}

const NO_DAYS: readonly number[] = [];

const dayOf = (time: number) => Math.floor(time / DAY_MS);

const fresh = (createdAt: Date): Known => ({
  createdDay: dayOf(createdAt.getTime()),
  days: NO_DAYS,
});

/** The bound (a UTC day) of a read after `afterSeq` of a known session: see {@link SessionBounds}. */
function boundOf(known: Known, afterSeq?: number): number {
  let bound = known.createdDay;
  if (afterSeq !== undefined) {
    const { days } = known;
    for (let i = 0; i < days.length; i += 2) {
      if (days[i + 1] <= afterSeq + 1 && days[i] - 1 > bound) bound = days[i] - 1;
    }
  }
  return bound;
}

/** `days` with `seq` recorded on `day` (the same array when nothing changes), newest days kept. */
function withLowest(days: readonly number[], day: number, seq: number): readonly number[] {
  for (let i = 0; i < days.length; i += 2) {
    if (days[i] !== day) continue;
    if (days[i + 1] <= seq) return days;
    const next = days.slice();
    next[i + 1] = seq;
    return next;
  }
  const next = [...days, day, seq];
  if (next.length > MAX_DAYS * 2) {
    let oldest = 0;
    for (let i = 2; i < next.length; i += 2) if (next[i] < next[oldest]) oldest = i;
    next.splice(oldest, 2);
  }
  return next;
}

/**
 * Per session, a lower bound of `created_at` for the events after a seq, so reads add
 * `created_at >= bound` (a parameter: Postgres prunes the older partitions at planning time).
 *
 * `created_at` never decreases along a session's seqs, so when an event with seq `s` was written
 * on day `d`, every event after seq `s - 1` was written on `d` or later. Reads and appends through
 * the store record, per day, the lowest seq seen on it; a read after `afterSeq` is bounded by the
 * day before the newest day whose lowest seen seq is at most `afterSeq + 1` (the day of slack
 * covers rows written before migration 0002, whose `created_at` was their transaction's start and
 * could run backwards by one transaction's length), else by the session's creation day (no event
 * is older than its session). A resume near the head then touches the last two days, not every
 * partition since the session began.
 *
 * `sessions.created_at` never changes; known sessions are cached, most recently used first, at
 * most `maxEntries`.
 */
export class SessionBounds {
  private readonly known = new Map<string, Known>();

  constructor(
    private readonly db: Database,
    private readonly maxEntries = 50_000,
  ) {}

  /** Records a session row seen elsewhere (a create, a lock, a lookup). */
  note(sessionId: string, createdAt: Date): void {
    if (this.known.has(sessionId)) return;
    this.remember(sessionId, fresh(createdAt));
  }

  /** Records events read or written (any order): where their days begin, as far as seen. */
  noteEvents(sessionId: string, events: readonly StoredEvent[]): void {
    const known = this.known.get(sessionId);
    if (!known) return;
    let days = known.days;
    for (const event of events)
      days = withLowest(days, dayOf(Date.parse(event.createdAt)), event.seq);
    known.days = days;
  }

  /**
   * The bound for events with `seq > afterSeq` (omitted: any event); undefined when the session
   * does not exist.
   */
  async of(sessionId: string, afterSeq?: number): Promise<Date | undefined> {
    const [bound] = await this.ofMany([{ sessionId, afterSeq }]);
    return bound;
  }

  /**
   * The bounds of many reads at once (each as {@link of}), in their order: the sessions not known
   * yet are loaded in one query, so a batched read of many sessions costs one lookup, not one per
   * session.
   */
  async ofMany(
    reads: readonly { sessionId: string; afterSeq?: number }[],
  ): Promise<(Date | undefined)[]> {
    const found = new Map<string, Known>();
    const absent = new Set<string>();
    for (const { sessionId } of reads) {
      if (found.has(sessionId) || absent.has(sessionId)) continue;
      const known = this.known.get(sessionId);
      if (known) {
        this.remember(sessionId, known);
        found.set(sessionId, known);
      } else {
        absent.add(sessionId);
      }
    }
    const missing = [...absent];
    if (missing.length > 0) {
      const rows = await runNamed(
        missing.length === 1 ? 'bounds of one session' : 'bounds of sessions',
        this.db
          .select({ id: sessions.id, createdAt: sessions.createdAt })
          .from(sessions)
          .where(
            missing.length === 1
              ? eq(sessions.id, missing[0])
              : sql`${sessions.id} = any(${sql.param(missing)}::uuid[])`,
          ),
      );
      for (const row of rows) {
        this.note(row.id, row.createdAt);
        found.set(row.id, this.known.get(row.id) ?? fresh(row.createdAt));
      }
    }
    return reads.map(({ sessionId, afterSeq }) => {
      const known = found.get(sessionId);
      return known ? new Date(boundOf(known, afterSeq) * DAY_MS) : undefined;
    });
  }

  private remember(sessionId: string, known: Known): void {
    this.known.delete(sessionId);
    this.known.set(sessionId, known);
    if (this.known.size > this.maxEntries) {
      this.known.delete(this.known.keys().next().value!);
    }
  }
}
