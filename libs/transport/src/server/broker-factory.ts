import type { ProbedBroker } from './broker';
import type { ErrorSink } from './error-throttle';
import { RedisBroker } from './redis-broker';
import { RedisClusterBroker, type ClusterSeed } from './redis-cluster-broker';

/** One Redis (`REDIS_URL`), or the seeds of a Redis Cluster (`REDIS_CLUSTER_NODES`). */
export type RedisTarget =
  { kind: 'server'; url: string } | { kind: 'cluster'; seeds: readonly ClusterSeed[] };

export interface RedisBrokerConfig {
  redis: RedisTarget;
  prefix?: string;
  connectionName: string;
  onError?: ErrorSink;
}

/**
 * The broker the configuration names: a {@link RedisClusterBroker} on sharded pub/sub for a
 * cluster, a {@link RedisBroker} for one Redis.
 */
export function createRedisBroker(config: RedisBrokerConfig): ProbedBroker {
  const { redis, prefix, connectionName, onError } = config;
  return redis.kind === 'cluster'
    ? new RedisClusterBroker({ nodes: [...redis.seeds], prefix, connectionName, onError })
    : new RedisBroker({ url: redis.url, prefix, connectionName, onError });
}
