import type { ResumeOutcome } from './resume-handoff';

/**
 * Counters and timings of the stream engine. The API implements it with prom-client; the engine
 * calls it synchronously on its hot paths, so implementations must not throw or block.
 */
export interface StreamMetrics {
  streamOpened(): void;
  streamClosed(): void;
  /**
   * One per resume, by its first gap: none (events replayed), over the cap, a cursor past head, or
   * history removed by retention.
   */
  resume(outcome: ResumeOutcome): void;
  replayedEvents(count: number): void;
  /** Every `gap` frame sent (resume or catch-up). */
  gapSent(): void;
  syncRound(): void;
  /** A session caught up by a sync round (its streams were behind head). */
  syncCatchUp(): void;
  slowClientClosed(): void;
  /** A hint revealed events that never arrived as hints (a seq beyond the next expected). */
  hintMissed(): void;
  /** The read triggered by a missed hint delivered the missing events. */
  hintRepaired(): void;
  /** Seconds from an event's `createdAt` to the write of its frame to a client. */
  publishToWrite(seconds: number): void;
}

/** Metrics that record nothing (tests, the standalone build without /metrics). */
export class NoopStreamMetrics implements StreamMetrics {
  streamOpened(): void {}
  streamClosed(): void {}
  resume(): void {}
  replayedEvents(): void {}
  gapSent(): void {}
  syncRound(): void {}
  syncCatchUp(): void {}
  slowClientClosed(): void {}
  hintMissed(): void {}
  hintRepaired(): void {}
  publishToWrite(): void {}
}

export const NOOP_STREAM_METRICS: StreamMetrics = new NoopStreamMetrics();
