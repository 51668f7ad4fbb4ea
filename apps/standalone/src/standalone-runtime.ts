import {
  connectPglite,
  connectPostgres,
  migratePglite,
  migratePostgres,
  type DatabaseHandle,
} from '@sessionwire/events';
import { createRedisBroker, MemoryBroker, type Broker } from '@sessionwire/transport/server';
import type { Logger } from 'pino';
import type { StandaloneMode } from './standalone-config';

export interface StandaloneRuntime {
  /** The API's database handle (`application_name` sessionwire-api on Postgres). */
  apiDatabase: DatabaseHandle;
  /** The worker's (sessionwire-worker on Postgres; the same embedded database on PGlite). */
  workerDatabase: DatabaseHandle;
  broker: Broker;
  close(): Promise<void>;
}

/** Opens and migrates the database, and opens the bus that the API and the worker share. */
export async function openRuntime(
  mode: StandaloneMode,
  redisPrefix: string,
  log: Logger,
): Promise<StandaloneRuntime> {
  const databases: DatabaseHandle[] = [];
  if (mode.database === 'pglite') {
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
    mode.broker !== 'memory'
      ? createRedisBroker({
          redisUrl: mode.broker === 'redis' ? mode.redisUrl : undefined,
          redisClusterNodes: mode.broker === 'redis-cluster' ? mode.redisClusterNodes : undefined,
          prefix: redisPrefix,
          connectionName: 'sessionwire-standalone',
          onError: (error, context) => log.warn({ err: error, context }, 'redis error'),
        })
      : new MemoryBroker();
  return {
    apiDatabase: databases[0],
    workerDatabase: databases.at(-1)!,
    broker,
    close: async () => {
      await broker.close();
      for (const database of databases) await database.close();
    },
  };
}
