import type { ClusterSeed } from '@sessionwire/transport/server/cluster-seeds';
import { loadApiConfig, type ApiConfig } from '../../api/src/config/api-config';
import { loadWorkerConfig, type WorkerConfig } from '../../worker/src/config/worker-config';

/** Where the single process keeps its log and how it passes hints. */
export type StandaloneMode =
  | { database: 'pglite'; dataDir: string; broker: 'memory' }
  | { database: 'postgres'; url: string; broker: 'memory' }
  | { database: 'postgres'; url: string; broker: 'redis'; redisUrl: string }
  | {
      database: 'postgres';
      url: string;
      broker: 'redis-cluster';
      redisClusterNodes: ClusterSeed[];
    };

export interface StandaloneConfig {
  api: ApiConfig;
  worker: WorkerConfig;
  mode: StandaloneMode;
}

/** Embedded database directory, relative to the working directory (PROTOCOL §7). */
export const PGLITE_DATA_DIR = './.data';

/**
 * Reads the configuration of `npm start`: the API's and the worker's variables, plus the choice of
 * database and bus. `REDIS_URL` without `DATABASE_URL` is refused: an embedded database lives in
 * one process, so a shared bus would connect nothing.
 */
export function loadStandaloneConfig(env: NodeJS.ProcessEnv): StandaloneConfig {
  const api = loadApiConfig(env, { requireConnections: false });
  const worker = loadWorkerConfig(env, { requireUrls: false });
  const redisVariable = api.redisUrl
    ? 'REDIS_URL'
    : api.redisClusterNodes
      ? 'REDIS_CLUSTER_NODES'
      : '';
  if (redisVariable && !api.databaseUrl) {
    throw new Error(
      `invalid configuration: ${redisVariable} is set without DATABASE_URL; set both (shared ` +
        'Postgres and Redis), DATABASE_URL alone (in-process bus), or neither (embedded database in ./.data)',
    );
  }
  const mode: StandaloneMode = !api.databaseUrl
    ? { database: 'pglite', dataDir: PGLITE_DATA_DIR, broker: 'memory' }
    : api.redisUrl
      ? { database: 'postgres', url: api.databaseUrl, broker: 'redis', redisUrl: api.redisUrl }
      : api.redisClusterNodes
        ? {
            database: 'postgres',
            url: api.databaseUrl,
            broker: 'redis-cluster',
            redisClusterNodes: api.redisClusterNodes,
          }
        : { database: 'postgres', url: api.databaseUrl, broker: 'memory' };
  return { api, worker, mode };
}

export function describeMode(mode: StandaloneMode): string {
  if (mode.database === 'pglite') {
    return `embedded Postgres (PGlite) in ${mode.dataDir}, in-process bus`;
  }
  const host = new URL(mode.url).host;
  if (mode.broker === 'redis')
    return `Postgres at ${host}, Redis at ${new URL(mode.redisUrl).host}`;
  if (mode.broker === 'redis-cluster') {
    const seeds = mode.redisClusterNodes.map((n) => `${n.host}:${n.port}`).join(',');
    return `Postgres at ${host}, Redis Cluster at ${seeds}`;
  }
  return `Postgres at ${host}, in-process bus`;
}
