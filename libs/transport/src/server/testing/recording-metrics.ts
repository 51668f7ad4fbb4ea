import type { ResumeOutcome } from '../resume-handoff';
import type { StreamMetrics } from '../stream-metrics';

/** Counts every metric call (tests). */
export class RecordingMetrics implements StreamMetrics {
  readonly counts: Record<string, number> = {};
  readonly resumes: string[] = [];
  readonly latencies: number[] = [];

  streamOpened(): void {
    this.count('streamOpened');
  }
  streamClosed(): void {
    this.count('streamClosed');
  }
  resume(outcome: ResumeOutcome): void {
    this.resumes.push(outcome);
  }
  replayedEvents(count: number): void {
    this.count('replayedEvents', count);
  }
  gapSent(): void {
    this.count('gapSent');
  }
  syncRound(): void {
    this.count('syncRound');
  }
  syncCatchUp(): void {
    this.count('syncCatchUp');
  }
  slowClientClosed(): void {
    this.count('slowClientClosed');
  }
  hintMissed(): void {
    this.count('hintMissed');
  }
  hintRepaired(): void {
    this.count('hintRepaired');
  }
  publishToWrite(seconds: number): void {
    this.latencies.push(seconds);
  }

  get(name: string): number {
    return this.counts[name] ?? 0;
  }

  private count(name: string, by = 1): void {
    this.counts[name] = (this.counts[name] ?? 0) + by;
  }
}
