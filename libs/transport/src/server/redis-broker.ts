import { Redis, type RedisOptions } from 'ioredis';
import {
  unsubscribeOnce,
  type BrokerListener,
  type BrokerStats,
  type ProbedBroker,
  type Unsubscribe,
} from './broker';
import { ChannelListeners } from './channel-listeners';
import { ErrorThrottle } from './error-throttle';

export interface RedisBrokerOptions {
  url: string;
  /** Prepended to every channel (isolates tests and tenants sharing one Redis). */
  prefix?: string;
  /** Reports failed publishes and connection errors, rate-limited per context; never thrown. */
  onError?: (error: Error, context: string) => void;
  connectionName?: string;
  /** At most one error report per context in this window (default 10 s). */
  errorLogIntervalMs?: number;
}

/**
 * Redis pub/sub broker: one publisher and one subscriber connection per process, however many
 * channels and listeners. Channels are reference-counted; both connections reconnect by themselves
 * and the subscriber re-subscribes every channel, then calls the `onResubscribe` listeners (hints
 * published while it was away are lost, by design of pub/sub).
 */
export class RedisBroker implements ProbedBroker {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly channels = new ChannelListeners();
  /** Upstream SUBSCRIBE in flight per channel: later subscribers wait for it too. */
  private readonly subscribing = new Map<string, Promise<unknown>>();
  private readonly resubscribeListeners: (() => void)[] = [];
  private readonly errors: ErrorThrottle;
  private readyOnce = false;
  private resubscribes = 0;
  private publishFailures = 0;

  constructor(options: RedisBrokerOptions) {
    this.prefix = options.prefix ?? '';
    this.errors = new ErrorThrottle(options.onError, { intervalMs: options.errorLogIntervalMs });
    const base: RedisOptions = {
      lazyConnect: false,
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    };
    const name = options.connectionName ?? 'sessionwire';
    // A publish while Redis is away fails at once instead of queueing: the hint is lost and the
    // consumers' periodic sync repairs it, and the append path never waits on Redis.
    this.pub = new Redis(options.url, {
      ...base,
      // The publishes of one tick (every session of a commit) go out in one write.
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: `${name}-pub`,
    });
    this.sub = new Redis(options.url, { ...base, connectionName: `${name}-sub` });
    this.pub.on('error', (error) => this.report(error, 'redis publisher'));
    this.sub.on('error', (error) => this.report(error, 'redis subscriber'));
    this.sub.on('message', (channel: string, payload: string) => {
      this.channels.deliver(channel, payload);
    });
    this.sub.on('ready', () => {
      if (this.readyOnce) this.resubscribed();
      this.readyOnce = true;
    });
  }

  async publish(channel: string, payload: string): Promise<void> {
    try {
      await this.pub.publish(this.prefix + channel, payload);
    } catch (error) {
      this.publishFailures++;
      this.report(error as Error, 'publish');
    }
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<Unsubscribe> {
    const key = this.prefix + channel;
    if (this.channels.add(key, listener)) {
      const subscribed: Promise<unknown> = this.sub
        .subscribe(key)
        .catch((error: unknown) => {
          // Nobody is subscribed upstream: forget the channel so the next subscriber retries.
          if (this.subscribing.get(key) === subscribed) this.channels.forget(key);
          throw error;
        })
        .finally(() => {
          if (this.subscribing.get(key) === subscribed) this.subscribing.delete(key);
        });
      this.subscribing.set(key, subscribed);
    }
    // Returns only once the channel is live upstream, so a caller that reads the log next
    // cannot miss a hint published in between.
    await this.subscribing.get(key);
    return unsubscribeOnce(this, channel, listener);
  }

  async unsubscribe(channel: string, listener: BrokerListener): Promise<void> {
    const key = this.prefix + channel;
    if (!this.channels.remove(key, listener)) return;
    await this.sub.unsubscribe(key).catch((error) => this.report(error, `unsubscribe ${key}`));
  }

  onResubscribe(listener: () => void): void {
    this.resubscribeListeners.push(listener);
  }

  /**
   * Resolves once both connections are ready and Redis answers (readiness probes, tests). Waits
   * up to `waitMs` for a connection still being established; rejects when Redis is unreachable.
   */
  async ping(waitMs = 2000): Promise<void> {
    await Promise.all([whenReady(this.pub, waitMs), whenReady(this.sub, waitMs)]);
    await this.pub.ping();
  }

  async stats(): Promise<BrokerStats> {
    let problem: string | undefined;
    try {
      await this.ping(500);
    } catch (error) {
      problem = `redis: ${(error as Error).message}`;
    }
    return {
      kind: 'redis',
      up: problem === undefined,
      problem,
      subscriberConnections: this.sub.status === 'ready' ? 1 : 0,
      channels: this.channels.size,
      errors: this.errors.total,
      resubscribes: this.resubscribes,
      publishFailures: this.publishFailures,
    };
  }

  async close(): Promise<void> {
    this.channels.clear();
    // QUIT needs a live connection; one that is still (re)connecting is dropped at once, or its
    // retry loop would keep the process alive.
    await Promise.allSettled(
      [this.pub, this.sub].map((client) =>
        client.status === 'ready' ? client.quit() : Promise.resolve(client.disconnect()),
      ),
    );
  }

  /**
   * After a reconnect ioredis re-subscribes by itself but emits `ready` without waiting for the
   * replies. Listeners are told only once Redis confirmed every channel (SUBSCRIBE is idempotent),
   * so a consumer that re-reads the log then cannot miss a hint published in between.
   */
  private resubscribed(): void {
    const keys = [...this.channels.keys()];
    const live = keys.length > 0 ? this.sub.subscribe(...keys) : Promise.resolve();
    live.then(
      () => {
        this.resubscribes++;
        for (const listener of this.resubscribeListeners) listener();
      },
      (error: Error) => this.report(error, 'resubscribe'),
    );
  }

  private report(error: Error, context: string): void {
    this.errors.report(error, context);
  }
}

function whenReady(connection: Redis, waitMs: number): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      connection.off('ready', done);
      resolve();
    };
    // After the wait the caller's command fails on its own with the connection's real error.
    const timer = setTimeout(done, waitMs);
    connection.once('ready', done);
  });
}
