import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { BatchedEventReader, EventStore } from '@sessionwire/events';
import { BROKER, StreamHub, type Broker } from '@sessionwire/transport/server';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG } from '../config/config.tokens';
import { StreamMetricsService } from '../health/stream-metrics.service';

/**
 * This node's stream engine: one hub, fed by the broker and the event store, shared by every front
 * end (`engine.follow`). It drains on SIGTERM and closes with the app.
 */
@Injectable()
export class StreamHubService implements OnApplicationShutdown {
  readonly engine: StreamHub;
  private readonly logger = new Logger('Streams');

  constructor(
    @Inject(API_CONFIG) config: ApiConfig,
    @Inject(BROKER) broker: Broker,
    store: EventStore,
    metrics: StreamMetricsService,
  ) {
    this.engine = new StreamHub({
      broker,
      history: new BatchedEventReader(store),
      maxReplayGap: config.maxReplayGap,
      syncIntervalMs: config.syncIntervalMs,
      heartbeatMs: config.heartbeatMs,
      maxBufferBytes: config.streamMaxBufferBytes,
      metrics,
      log: this.logger,
    });
  }

  get openStreams(): number {
    return this.engine.openStreams;
  }

  async drain(durationMs: number): Promise<void> {
    this.logger.log({ openStreams: this.engine.openStreams, durationMs }, 'draining streams');
    await this.engine.drain(durationMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.engine.close();
  }
}
