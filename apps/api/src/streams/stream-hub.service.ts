import type { ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { EventStore } from '@sessionwire/events';
import {
  BROKER,
  FlushScheduler,
  serveSse,
  StreamHub,
  type Broker,
  type SessionHead,
  type SseStreamOptions,
} from '@sessionwire/transport/server';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG } from '../config/config.tokens';
import { StreamMetricsService } from '../health/stream-metrics.service';

/** This node's stream engine: one hub, fed by the broker and the event store. */
@Injectable()
export class StreamHubService implements OnApplicationShutdown {
  private readonly logger = new Logger('Streams');
  private readonly hub: StreamHub;
  private readonly sse: SseStreamOptions;

  constructor(
    @Inject(API_CONFIG) config: ApiConfig,
    @Inject(BROKER) broker: Broker,
    store: EventStore,
    metrics: StreamMetricsService,
  ) {
    this.hub = new StreamHub({
      broker,
      history: store,
      maxReplayGap: config.maxReplayGap,
      syncIntervalMs: config.syncIntervalMs,
      heartbeatMs: config.heartbeatMs,
      maxBufferBytes: config.streamMaxBufferBytes,
      metrics,
      log: this.logger,
    });
    this.sse = {
      scheduler: new FlushScheduler(),
      metrics,
      maxBufferBytes: config.streamMaxBufferBytes,
    };
  }

  get openStreams(): number {
    return this.hub.openStreams;
  }

  /** The session's head for a stream from `cursor`; undefined when the session does not exist. */
  resolveHead(sessionId: string, cursor: number): Promise<SessionHead | undefined> {
    return this.hub.resolveHead(sessionId, cursor);
  }

  serve(
    res: ServerResponse,
    params: { sessionId: string; cursor: number; head: SessionHead },
  ): Promise<void> {
    const stream = serveSse(this.hub, res, params, this.sse);
    return stream?.following?.done ?? Promise.resolve();
  }

  async drain(durationMs: number): Promise<void> {
    this.logger.log({ openStreams: this.hub.openStreams, durationMs }, 'draining streams');
    await this.hub.drain(durationMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.hub.close();
  }
}
