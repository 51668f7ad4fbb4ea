import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import {
  unsubscribeOnce,
  type BrokerListener,
  type BrokerStats,
  type ProbedBroker,
  type Unsubscribe,
} from './broker';
import { ChannelListeners } from './channel-listeners';
import { ErrorThrottle, type ErrorSink } from './error-throttle';

/** A node of a Redis Cluster to connect to first; the others are discovered from it. */
export interface ClusterSeed {
  host: string;
  port: number;
  /** Every connection to the cluster uses TLS. */
  tls?: boolean;
  /** AUTH for every connection. */
  username?: string;
  password?: string;
}

export interface RedisClusterBrokerOptions {
  /** Some nodes of the cluster (`REDIS_CLUSTER_NODES`); the rest are discovered. TLS and
   * credentials of the first apply to every connection. */
  nodes: ClusterSeed[];
  /** Prepended to every channel; must not contain `{` or `}` (hash tags are the channels'). */
  prefix?: string;
  /** Failed publishes and connection errors, rate-limited per context; never thrown. */
  onError?: ErrorSink;
  connectionName?: string;
  /** A publish not acknowledged within this time is given up as lost (default 250 ms). */
  publishTimeoutMs?: number;
  /** At most one error report per context in this window (default 10 s). */
  errorLogIntervalMs?: number;
}

const PROBE_PREFIX = '__sessionwire_probe:';

/**
 * Redis Cluster broker on sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`): each channel lives on the
 * shard that owns its slot, so no shard carries every hint. ioredis keeps one subscriber
 * connection per master that serves a subscribed channel and moves subscriptions when slots move
 * or a replica is promoted; after each such change this broker checks with every subscriber
 * connection that the re-subscriptions went through, then calls the `onResubscribe` listeners
 * (what was published meanwhile was lost; consumers re-read the log). Channels are
 * reference-counted as in {@link RedisBroker}. A publish fails fast: after `publishTimeoutMs` it
 * is reported lost, so the append path never waits on a failover.
 */
export class RedisClusterBroker implements ProbedBroker {
  private readonly cluster: Cluster;
  private readonly prefix: string;
  private readonly channels = new ChannelListeners();
  private readonly subscribing = new Map<string, Promise<unknown>>();
  private readonly resubscribeListeners: (() => void)[] = [];
  private readonly errors: ErrorThrottle;
  private readonly publishTimeoutMs: number;
  private connectedOnce = false;
  private restoring?: Promise<void>;
  private restoreAgain = false;
  private resubscribes = 0;
  private publishFailures = 0;
  private closed = false;

  constructor(options: RedisClusterBrokerOptions) {
    this.prefix = options.prefix ?? '';
    if (/[{}]/.test(this.prefix)) {
      throw new Error('a Redis Cluster channel prefix must not contain { or }');
    }
    if (options.nodes.length === 0) throw new Error('a Redis Cluster needs at least one node');
    this.publishTimeoutMs = options.publishTimeoutMs ?? 250;
    this.errors = new ErrorThrottle(options.onError, { intervalMs: options.errorLogIntervalMs });
    const { tls, username, password } = options.nodes[0];
    this.cluster = new Cluster(
      options.nodes.map(({ host, port }) => ({ host, port })),
      {
        shardedSubscribers: true,
        scaleReads: 'master',
        clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
        // TLS certificates name the seed hosts: keep them instead of the resolved addresses
        ...(tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
        redisOptions: {
          connectionName: options.connectionName ?? 'sessionwire',
          ...(tls ? { tls: {} } : {}),
          ...(username ? { username } : {}),
          ...(password ? { password } : {}),
        },
      },
    );
    this.cluster.on('error', (error: Error) => this.report(error, 'redis cluster'));
    this.cluster.on('node error', (error: Error, node: string) =>
      this.report(error, `redis node ${node}`),
    );
    this.cluster.on('nodeError', (error: Error, node: string) =>
      this.report(error, `redis subscriber ${node}`),
    );
    this.cluster.on('smessage', (channel: string, payload: string) => {
      this.channels.deliver(channel, payload);
    });
    // Topology changes before the first `ready` are the initial connection, not a recovery.
    this.cluster.once('ready', () => (this.connectedOnce = true));
    this.cluster.on('subscribersReady', () => {
      if (this.connectedOnce) this.restore();
    });
  }

  async publish(channel: string, payload: string): Promise<void> {
    const sent = this.cluster.spublish(this.prefix + channel, payload);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.publishTimeoutMs);
    });
    try {
      if (await Promise.race([sent.then(() => false), timedOut])) {
        sent.catch(() => undefined); // already reported as lost
        this.publishFailures++;
        this.report(new Error(`no answer within ${this.publishTimeoutMs} ms`), 'publish');
      }
    } catch (error) {
      this.publishFailures++;
      this.report(error as Error, 'publish');
    } finally {
      clearTimeout(timer);
    }
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<Unsubscribe> {
    const key = this.prefix + channel;
    if (this.channels.add(key, listener)) {
      const subscribed: Promise<unknown> = this.cluster
        .ssubscribe(key)
        .catch((error: unknown) => {
          if (this.subscribing.get(key) === subscribed) this.channels.forget(key);
          // ioredis records the channel before sending; forget it there too
          this.cluster.sunsubscribe(key).catch(() => undefined);
          throw error;
        })
        .finally(() => {
          if (this.subscribing.get(key) === subscribed) this.subscribing.delete(key);
        });
      this.subscribing.set(key, subscribed);
    }
    // Returns once the channel is live on its shard: a caller reading the log next misses nothing.
    await this.subscribing.get(key);
    return unsubscribeOnce(this, channel, listener);
  }

  async unsubscribe(channel: string, listener: BrokerListener): Promise<void> {
    const key = this.prefix + channel;
    if (!this.channels.remove(key, listener)) return;
    await this.cluster.sunsubscribe(key).catch((error: Error) => {
      this.report(error, `unsubscribe ${key}`);
    });
  }

  onResubscribe(listener: () => void): void {
    this.resubscribeListeners.push(listener);
  }

  /**
   * Resolves once a node of the cluster answers; rejects when none does. Waits up to `waitMs` for
   * a connection still being established. A cluster that answers but is not whole (a master died,
   * its replica not yet promoted) still resolves: the nodes keep serving streams from Postgres and
   * the periodic sync repairs the hints lost meanwhile; {@link stats} reports it.
   */
  async ping(waitMs = 2000): Promise<void> {
    await this.clusterState(waitMs);
  }

  async stats(): Promise<BrokerStats> {
    let problem: string | undefined;
    let clusterState: string | undefined;
    try {
      clusterState = await this.clusterState(500);
      if (clusterState !== 'ok') problem = `redis cluster state is ${clusterState}`;
    } catch (error) {
      problem = `redis cluster is unreachable: ${(error as Error).message}`;
    }
    const masterOf = (slot: number) => this.cluster.slots[slot]?.[0];
    const masters = new Set(this.cluster.slots.map((nodes) => nodes?.[0]).filter(Boolean));
    const subscribed = new Set(
      [...this.channels.keys()].map((key) => masterOf(calculateSlot(key))).filter(Boolean),
    );
    return {
      kind: 'redis-cluster',
      up: problem === undefined,
      problem,
      clusterState,
      masters: masters.size,
      subscriberConnections: subscribed.size,
      channels: this.channels.size,
      errors: this.errors.total,
      resubscribes: this.resubscribes,
      publishFailures: this.publishFailures,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.channels.clear();
    if (this.cluster.status === 'ready') {
      await this.cluster.quit().catch(() => this.cluster.disconnect());
    } else {
      this.cluster.disconnect();
    }
  }

  /**
   * ioredis re-subscribes after a topology change without waiting for the replies. One probe per
   * subscriber connection (an SUNSUBSCRIBE of a channel never subscribed, in a slot that
   * connection serves) is answered only after every command sent before it on that connection, so
   * once all probes are answered every re-subscription is live, and the listeners are told.
   * Changes during a check start another check after it.
   */
  private restore(): void {
    if (this.channels.size === 0) return; // nothing subscribed, nothing lost
    if (this.restoring) {
      this.restoreAgain = true;
      return;
    }
    this.restoring = (async () => {
      do {
        this.restoreAgain = false;
        try {
          await this.confirmSubscriptions();
        } catch (error) {
          // a shard is still away: check again soon (or at the next topology change)
          this.report(error as Error, 'resubscribe');
          if (!this.closed) setTimeout(() => this.restore(), 1000).unref();
          continue;
        }
        if (this.restoreAgain || this.closed) continue;
        this.resubscribes++;
        for (const listener of this.resubscribeListeners) listener();
      } while (this.restoreAgain && !this.closed);
    })().finally(() => {
      this.restoring = undefined;
    });
  }

  private async confirmSubscriptions(): Promise<void> {
    const probes = new Map<string, string>();
    for (const key of this.channels.keys()) {
      const node = this.cluster.slots[calculateSlot(key)]?.[0];
      if (node && !probes.has(node)) probes.set(node, `${PROBE_PREFIX}{${hashTag(key)}}`);
    }
    await withTimeout(
      Promise.all([...probes.values()].map((probe) => this.cluster.sunsubscribe(probe))),
      5000,
      'the subscriber connections did not confirm',
    );
  }

  /** `cluster_state` (`ok` or `fail`) as a node reports it. */
  private async clusterState(waitMs: number): Promise<string> {
    await whenReady(this.cluster, waitMs);
    // not ready: the command would wait in the offline queue for as long as that lasts
    if (this.cluster.status !== 'ready') {
      throw new Error(`not connected to the cluster (${this.cluster.status})`);
    }
    const info = String(
      await withTimeout(this.cluster.call('CLUSTER', 'INFO'), 2000, 'CLUSTER INFO timed out'),
    );
    return /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
  }

  private report(error: Error, context: string): void {
    this.errors.report(error, context);
  }
}

/** The part of a key Redis hashes: the first non-empty `{…}`, else the whole key. */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

function whenReady(cluster: Cluster, waitMs: number): Promise<void> {
  if (cluster.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      cluster.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, waitMs);
    timer.unref();
    cluster.once('ready', done);
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
