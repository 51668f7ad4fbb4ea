import { Cluster, Redis } from 'ioredis';
import type { RedisTarget } from './broker-factory';

export interface RedisCommandClientOptions {
  connectionName: string;
  /** A command not answered within this time fails (default 500 ms). */
  commandTimeoutMs?: number;
  onError?: (error: Error) => void;
}

/**
 * A Redis connection (or cluster client) for plain commands that must never wait on an outage:
 * while Redis is away a command fails at once instead of queueing, and one that gets no answer
 * fails after `commandTimeoutMs`. It reconnects by itself.
 */
export function createRedisCommandClient(
  target: RedisTarget,
  options: RedisCommandClientOptions,
): Redis | Cluster {
  const failFast = {
    // The commands of one tick (concurrent requests' rate-limit checks) go out in one write.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 500,
    connectionName: options.connectionName,
  };
  let client: Redis | Cluster;
  if (target.kind === 'server') {
    client = new Redis(target.url, {
      ...failFast,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    });
  } else {
    const { tls, username, password } = target.seeds[0];
    client = new Cluster(
      target.seeds.map(({ host, port }) => ({ host, port })),
      {
        enableOfflineQueue: false,
        scaleReads: 'master',
        clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
        ...(tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
        redisOptions: {
          ...failFast,
          ...(tls ? { tls: {} } : {}),
          ...(username ? { username } : {}),
          ...(password ? { password } : {}),
        },
      },
    );
  }
  client.on('error', (error: Error) => options.onError?.(error));
  return client;
}
