import type { ProbedBroker } from './broker';
import type { ErrorSink } from './error-throttle';
import { RedisBroker } from './redis-broker';
import type { ClusterSeed } from './cluster-seeds';
import { RedisClusterBroker } from './redis-cluster-broker';

export interface RedisBrokerConfig {
  /** One Redis (`REDIS_URL`). */
  redisUrl?: string;
  /** Seeds of a Redis Cluster (`REDIS_CLUSTER_NODES`), used instead of `redisUrl`. */
  redisClusterNodes?: readonly ClusterSeed[];
  prefix?: string;
  connectionName: string;
  onError?: ErrorSink;
}

/**
 * The broker the configuration names: a {@link RedisClusterBroker} on sharded pub/sub when
 * cluster seeds are given, a {@link RedisBroker} for one Redis otherwise. Both or neither is a
 * configuration error (the config loaders refuse it first, naming the variables).
 */
export function createRedisBroker(config: RedisBrokerConfig): ProbedBroker {
  const cluster = config.redisClusterNodes ?? [];
  if (config.redisUrl && cluster.length > 0) {
    throw new Error(
      'invalid configuration: REDIS_URL and REDIS_CLUSTER_NODES are both set; set one of them',
    );
  }
  if (cluster.length > 0) {
    return new RedisClusterBroker({
      nodes: [...cluster],
      prefix: config.prefix,
      connectionName: config.connectionName,
      onError: config.onError,
    });
  }
  if (!config.redisUrl) {
    throw new Error('invalid configuration: REDIS_URL or REDIS_CLUSTER_NODES is required');
  }
  return new RedisBroker({
    url: config.redisUrl,
    prefix: config.prefix,
    connectionName: config.connectionName,
    onError: config.onError,
  });
}
