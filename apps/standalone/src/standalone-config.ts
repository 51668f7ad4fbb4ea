import {
  ConfigError,
  describeRedis,
  type Env,
  type LogLevel,
  type RedisConnection,
} from '@sessionwire/app-kit';
import { loadApiConfig, type ApiConfig } from '../../api/src/config/api-config';
import { loadWorkerConfig, type WorkerConfig } from '../../worker/src/config/worker-config';

/** Where the single process keeps its log and how it passes hints. */
export type StandaloneMode =
  | { database: 'pglite'; dataDir: string; broker: 'memory' }
  | { database: 'postgres'; url: string; broker: 'memory' }
  | { database: 'postgres'; url: string; broker: 'redis'; redis: RedisConnection };

export interface StandaloneConfig {
  api: ApiConfig;
  worker: WorkerConfig;
  mode: StandaloneMode;
  /** `LOG_LEVEL`, which the API and the worker read alike. */
  logLevel: LogLevel;
}

/** Embedded database directory, relative to the working directory (PROTOCOL §7). */
export const PGLITE_DATA_DIR = './.data';

/**
 * Reads the configuration of `npm start`: the API's and the worker's variables, plus the choice of
 * database and bus. A Redis (`REDIS_URL` or `REDIS_CLUSTER_NODES`) without `DATABASE_URL` is
 * refused: an embedded database lives in one process, so a shared bus would connect nothing.
 */
export function loadStandaloneConfig(env: Env): StandaloneConfig {
  const api = loadApiConfig(env, { requireConnections: false });
  const worker = loadWorkerConfig(env, { requireConnections: false });
  const { databaseUrl, redis } = api;
  if (redis && !databaseUrl) {
    throw new ConfigError(
      redis.kind === 'cluster' ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL',
      'is set without DATABASE_URL; set both (shared Postgres and Redis), DATABASE_URL alone ' +
        '(in-process bus), or neither (embedded database in ./.data)',
    );
  }
  const mode: StandaloneMode = !databaseUrl
    ? { database: 'pglite', dataDir: PGLITE_DATA_DIR, broker: 'memory' }
    : redis
      ? { database: 'postgres', url: databaseUrl, broker: 'redis', redis }
      : { database: 'postgres', url: databaseUrl, broker: 'memory' };
  return { api, worker, mode, logLevel: api.logLevel };
}

export function describeMode(mode: StandaloneMode): string {
  if (mode.database === 'pglite') {
    return `embedded Postgres (PGlite) in ${mode.dataDir}, in-process bus`;
  }
  const host = new URL(mode.url).host;
  if (mode.broker === 'memory') return `Postgres at ${host}, in-process bus`;
  const redis = mode.redis.kind === 'cluster' ? 'Redis Cluster' : 'Redis';
  return `Postgres at ${host}, ${redis} at ${describeRedis(mode.redis)}`;
}
