import type { SessionHead } from './history';

/**
 * The rules every stream of the engine follows, each written once (PROTOCOL §4, §8). The resume,
 * the live catch-up and the front ends call these; none of them restates a rule.
 */

/**
 * Ended at head: the session is ENDED and the stream has everything up to its head. A stream in
 * that position owes nothing more (`end`, or `204` when a request starts there). A position past
 * the head is not "at head": that cursor gets `cursor_ahead` first.
 */
export function isEndedAt(head: SessionHead, seq: number): boolean {
  return head.state === 'ENDED' && seq === head.headSeq;
}

/**
 * The replay cap: a stream at `sentSeq` that must reach `targetSeq` gets one `gap` frame instead of
 * the events when more than `maxReplayGap` of them are missing, so the cost of a resume or a
 * catch-up is bounded by the cap, not by how far behind the stream is.
 */
export function isPastReplayCap(sentSeq: number, targetSeq: number, maxReplayGap: number): boolean {
  return targetSeq - sentSeq > maxReplayGap;
}

/** One page of the log as a stream saw it (see {@link expiredThrough}). */
export interface LogPage {
  /** The page holds the events with `seq > afterSeq` that the log still had, ascending. */
  readonly afterSeq: number;
  /** The session's head known when the page was asked for: the log held every seq up to it. */
  readonly headSeq: number;
  readonly events: readonly { readonly seq: number }[];
}

/**
 * History expired (§8): the last seq that retention removed from what a stream at `sentSeq` still
 * needs, as this page shows it, or undefined when nothing it needs is missing. The log is gap-free
 * except for a prefix removed by retention, so a page that starts above `sentSeq + 1`, or an empty
 * page although the head was above `sentSeq` when it was asked for, means those seqs are gone. A
 * page read below the stream's position (`afterSeq > sentSeq`) says nothing about it.
 */
export function expiredThrough(sentSeq: number, page: LogPage): number | undefined {
  if (page.afterSeq > sentSeq) return undefined;
  const first = page.events[0]?.seq;
  if (first === undefined) return page.headSeq > sentSeq ? page.headSeq : undefined;
  return first > sentSeq + 1 ? first - 1 : undefined;
}
