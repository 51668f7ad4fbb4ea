import type { Cluster, Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { ApiProblem } from '../errors/problem';

export interface MessageRateOptions {
  maxPerMinute: number;
  /** Where the counts live, shared by every API node; none: this node's memory only. */
  redis?: Redis | Cluster;
  /** Prepended to the Redis keys (as to the channels). */
  prefix?: string;
  onLimited?: () => void;
  /** A check made on this node alone because Redis could not be reached. */
  onLocalFallback?: () => void;
}

/**
 * Messages per session per minute (a fixed window that starts with a session's first message).
 * Counts live in Redis so the limit holds however many API nodes share the load. While Redis
 * cannot be reached each node counts in its own memory instead (it fails open to a per-node
 * limit, never closed: an outage of the hint bus must not stop users from talking to their
 * agents), and goes back to Redis when it answers again.
 */
export class MessageRateLimiter {
  private readonly limiter: RateLimiterAbstract;

  constructor(private readonly options: MessageRateOptions) {
    const points = options.maxPerMinute;
    this.limiter = options.redis
      ? new RateLimiterRedis({
          storeClient: options.redis,
          keyPrefix: `${options.prefix ?? ''}sessionwire:rate:messages`,
          points,
          duration: 60,
          rejectIfRedisNotReady: true,
          insuranceLimiter: new ReportingMemoryLimiter(points, () => options.onLocalFallback?.()),
        })
      : new RateLimiterMemory({ points, duration: 60 });
  }

  /** Counts one message of `sessionId`, or throws 429 `rate_limited` with `Retry-After`. */
  async consume(sessionId: string): Promise<void> {
    try {
      await this.limiter.consume(sessionId);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      this.options.onLimited?.();
      const seconds = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      throw new ApiProblem(
        'rate_limited',
        `this session may take ${this.options.maxPerMinute} messages a minute; retry in ${seconds} s`,
        { 'Retry-After': String(seconds) },
        { expected: 'info' },
      );
    }
  }
}

/** The per-node fallback: a memory limiter that reports each use (Redis was not reachable). */
class ReportingMemoryLimiter extends RateLimiterMemory {
  constructor(
    points: number,
    private readonly report: () => void,
  ) {
    super({ points, duration: 60 });
  }

  override consume(key: string | number, points?: number, options?: object) {
    this.report();
    return super.consume(key, points, options);
  }
}
