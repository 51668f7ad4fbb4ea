import { Inject, Injectable } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG } from '../config/config.tokens';
import { StreamMetricsService } from '../health/stream-metrics.service';
import { LimitMetrics } from './limit-metrics';
import { MessageRateLimiter } from './message-rate';
import { StreamSlots } from './stream-slots';

/** The Redis connection the message limit counts in (none: each node counts alone). */
export const LIMITS_REDIS = Symbol('LIMITS_REDIS');

/**
 * The abuse limits of docs/protocol.md §8.15: open streams per session and per credential (on
 * this node) and messages per session per minute (across nodes).
 */
@Injectable()
export class LimitsService {
  readonly streams: StreamSlots;
  readonly messages: MessageRateLimiter;

  constructor(
    @Inject(API_CONFIG) config: ApiConfig,
    @Inject(LIMITS_REDIS) redis: Redis | Cluster | undefined,
    metrics: StreamMetricsService,
  ) {
    const limitMetrics = new LimitMetrics(metrics.registry, () => this.streams.size);
    this.streams = new StreamSlots(config.limits, (limit) => limitMetrics.limited(limit));
    this.messages = new MessageRateLimiter({
      maxPerMinute: config.limits.maxMessagesPerSessionPerMinute,
      redis,
      prefix: config.redisPrefix,
      onLimited: () => limitMetrics.limited('messages_per_session'),
      onLocalFallback: () => limitMetrics.localFallback(),
    });
  }
}
