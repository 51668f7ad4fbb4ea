import { clusterSeeds, type ClusterSeed } from './cluster-seeds';
import { url } from './parsers';
import { ConfigError, required } from './read-env';

/** The shared services, as every app reads them (`start:api`, `start:worker`, `npm start`). */
export const CONNECTION_VARIABLES = {
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  REDIS_CLUSTER_NODES: clusterSeeds().optional(),
};

/** How an app reaches Redis: one server (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`). */
export type RedisConnection =
  { kind: 'server'; url: string } | { kind: 'cluster'; seeds: ClusterSeed[] };

export interface Connections {
  databaseUrl: string;
  redis: RedisConnection;
}

export interface ConnectionOptions {
  /**
   * `DATABASE_URL` and one of `REDIS_URL` / `REDIS_CLUSTER_NODES` must be set (default true: a
   * separate process needs both). An embedding process that hands the app its own database and
   * broker passes false.
   */
  requireConnections?: boolean;
}

interface ConnectionValues {
  DATABASE_URL?: string;
  REDIS_URL?: string;
  REDIS_CLUSTER_NODES?: ClusterSeed[];
  /** The app's channel prefix, checked against a cluster (see {@link redisConnection}). */
  REDIS_PREFIX?: string;
}

/**
 * The Redis that `REDIS_URL` or `REDIS_CLUSTER_NODES` names, or undefined when neither is set.
 * Both set is a ConfigError naming both; so is a `REDIS_PREFIX` with `{` or `}` beside a cluster
 * (a hash tag in the prefix would put every channel in one slot, hence on one shard).
 */
export function redisConnection(values: ConnectionValues): RedisConnection | undefined {
  const { REDIS_URL: redisUrl, REDIS_CLUSTER_NODES: seeds } = values;
  if (redisUrl && seeds) {
    throw new ConfigError('REDIS_URL and REDIS_CLUSTER_NODES', 'are both set; set one of them');
  }
  if (seeds && /[{}]/.test(values.REDIS_PREFIX ?? '')) {
    throw new ConfigError('REDIS_PREFIX', 'must not contain { or } with a Redis Cluster');
  }
  if (seeds) return { kind: 'cluster', seeds };
  return redisUrl ? { kind: 'server', url: redisUrl } : undefined;
}

/** The connections read with {@link CONNECTION_VARIABLES}; required unless the options say not. */
export function readConnections(
  values: ConnectionValues,
  options: ConnectionOptions = {},
): Partial<Connections> {
  const redis = redisConnection(values);
  if (options.requireConnections ?? true) {
    return {
      databaseUrl: required('DATABASE_URL', values.DATABASE_URL),
      redis: requiredRedis(redis),
    };
  }
  return { databaseUrl: values.DATABASE_URL, redis };
}

function requiredRedis(redis: RedisConnection | undefined): RedisConnection {
  if (!redis)
    throw new ConfigError('REDIS_URL', 'is required (or REDIS_CLUSTER_NODES for a Redis Cluster)');
  return redis;
}

/** Where `redis` points, for a start message: `host:port`, or the seeds of a cluster. */
export function describeRedis(redis: RedisConnection): string {
  return redis.kind === 'server'
    ? new URL(redis.url).host
    : redis.seeds
        .map(({ host, port }) => (host.includes(':') ? `[${host}]` : host) + `:${port}`)
        .join(',');
}
