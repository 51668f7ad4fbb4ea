import { Injectable } from '@nestjs/common';
import type { ResumeOutcome, StreamMetrics } from '@sessionwire/transport/server';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** prom-client implementation of the stream engine's metrics, on a registry of this app. */
@Injectable()
export class StreamMetricsService implements StreamMetrics {
  readonly registry = new Registry();
  private readonly openStreams = new Gauge({
    name: 'sessionwire_open_streams',
    help: 'SSE streams currently open on this node',
    registers: [this.registry],
  });
  private readonly resumes = new Counter({
    name: 'sessionwire_stream_resumes_total',
    help: 'Stream starts by outcome: replayed, gap (over the replay cap), cursor_ahead, history_expired',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly replayed = new Counter({
    name: 'sessionwire_replayed_events_total',
    help: 'Events replayed from Postgres to resuming streams',
    registers: [this.registry],
  });
  private readonly gaps = new Counter({
    name: 'sessionwire_gaps_sent_total',
    help: 'gap frames sent',
    registers: [this.registry],
  });
  private readonly syncRounds = new Counter({
    name: 'sessionwire_sync_rounds_total',
    help: 'Periodic sync rounds (one batched head query each)',
    registers: [this.registry],
  });
  private readonly syncCatchUps = new Counter({
    name: 'sessionwire_sync_catchups_total',
    help: 'Sessions caught up by a sync round',
    registers: [this.registry],
  });
  private readonly slowClients = new Counter({
    name: 'sessionwire_slow_client_closes_total',
    help: 'Streams closed because their unsent buffer passed STREAM_MAX_BUFFER_BYTES',
    registers: [this.registry],
  });
  private readonly hintsMissed = new Counter({
    name: 'sessionwire_hints_missed_total',
    help: 'Pub/sub hints found missing (a seq beyond the next expected)',
    registers: [this.registry],
  });
  private readonly hintsRepaired = new Counter({
    name: 'sessionwire_hints_repaired_total',
    help: 'Missed hints repaired by reading the log',
    registers: [this.registry],
  });
  private readonly publishToWriteSeconds = new Histogram({
    name: 'sessionwire_publish_to_write_seconds',
    help: "Seconds from an event's commit (createdAt) to the write of its frame",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  streamOpened(): void {
    this.openStreams.inc();
  }
  streamClosed(): void {
    this.openStreams.dec();
  }
  resume(outcome: ResumeOutcome): void {
    this.resumes.inc({ outcome });
  }
  replayedEvents(count: number): void {
    this.replayed.inc(count);
  }
  gapSent(): void {
    this.gaps.inc();
  }
  syncRound(): void {
    this.syncRounds.inc();
  }
  syncCatchUp(): void {
    this.syncCatchUps.inc();
  }
  slowClientClosed(): void {
    this.slowClients.inc();
  }
  hintMissed(): void {
    this.hintsMissed.inc();
  }
  hintRepaired(): void {
    this.hintsRepaired.inc();
  }
  publishToWrite(seconds: number): void {
    if (Number.isFinite(seconds)) this.publishToWriteSeconds.observe(Math.max(0, seconds));
  }
}
