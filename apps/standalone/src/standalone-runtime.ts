import {
  connectPglite,
  connectPostgres,
  migratePglite,
  migratePostgres,
  type DatabaseHandle,
} from '@sessionwire/events';
import {
  createRedisBroker,
  createRedisCommandClient,
  MemoryBroker,
  type Broker,
} from '@sessionwire/transport/server';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { lockDataDir, type DataDirLock } from './data-dir-lock';
import type { StandaloneMode } from './standalone-config';

export interface StandaloneRuntime {
  /** The API's database handle (`application_name` sessionwire-api on Postgres). */
  apiDatabase: DatabaseHandle;
  /** The worker's (sessionwire-worker on Postgres; the same embedded database on PGlite). */
  workerDatabase: DatabaseHandle;
  broker: Broker;
  /** Where the API's message rate limit counts (with Redis only, shared with other nodes). */
  limitsRedis?: Redis | Cluster;
  close(): Promise<void>;
}

/**
 * Opens and migrates the database, and opens the bus that the API and the worker share. An embedded
 * database's folder is locked first: a second process on it stops with `DataDirLockedError`.
 */
export async function openRuntime(
  mode: StandaloneMode,
  redisPrefix: string,
  log: Logger,
): Promise<StandaloneRuntime> {
  const databases: DatabaseHandle[] = [];
  let lock: DataDirLock | undefined;
  if (mode.database === 'pglite') {
    lock = lockDataDir(mode.dataDir);
    const previous = lock.tookOverFrom;
    if (previous) {
      log.info({ previous }, `took over ${mode.dataDir} from pid ${previous.pid}, which is gone`);
    }
    const embedded = await connectPglite({ dataDir: mode.dataDir });
    databases.push(embedded);
    await migratePglite(embedded);
  } else {
    await migratePostgres(mode.url, 'sessionwire-api');
    for (const applicationName of ['sessionwire-api', 'sessionwire-worker']) {
      const pool = connectPostgres({
        url: mode.url,
        applicationName,
        onError: (error) =>
          log.warn({ err: error, applicationName }, 'idle postgres connection failed'),
      });
      databases.push(pool);
    }
  }
  const broker: Broker =
    mode.broker === 'redis'
      ? createRedisBroker({
          redis: mode.redis,
          prefix: redisPrefix,
          connectionName: 'sessionwire-standalone',
          onError: (error, context) => log.warn({ err: error, context }, 'redis error'),
        })
      : new MemoryBroker();
  const limitsRedis =
    mode.broker === 'redis'
      ? createRedisCommandClient(mode.redis, { connectionName: 'sessionwire-standalone-limits' })
      : undefined;
  return {
    apiDatabase: databases[0],
    workerDatabase: databases[databases.length - 1],
    broker,
    limitsRedis,
    close: async () => {
      limitsRedis?.disconnect();
      await broker.close();
      for (const database of databases) await database.close();
      lock?.release();
    },
  };
}
