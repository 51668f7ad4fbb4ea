import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { Client, Pool, type PoolClient, type PoolConfig } from 'pg';
import * as schema from './schema';
import { WriteQueueFullError } from './write/write-errors';

/** A drizzle handle on either node-postgres or PGlite; the store works on both. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** DI token of the {@link Database}. */
export const DATABASE = Symbol('DATABASE');

export interface DatabaseHandle {
  db: Database;
  close(): Promise<void>;
  /** Runs a connectivity check (for readiness probes). */
  ping(): Promise<void>;
  /** The connection pool's state (node-postgres only). */
  poolStats?(): PoolStats;
}

export interface PoolStats {
  total: number;
  idle: number;
  /** Requests waiting for a connection. */
  waiting: number;
}

/** How long establishing one new connection may take before it counts as unreachable. */
const CONNECT_TIMEOUT_MS = 5000;
/**
 * How long a statement may wait for one lock (a row another transaction holds). Ours hold row
 * locks for a commit's duration; a longer wait means a stuck holder, and the write pipeline then
 * commits the other sessions of the batch without the locked one (see WritePipeline).
 */
export const LOCK_TIMEOUT_MS = 1000;

export interface PostgresOptions {
  url: string;
  applicationName: string;
  /** Most connections (`DATABASE_POOL_MAX`, default 10). */
  max?: number;
  /**
   * Most requests waiting for a connection (`DATABASE_QUEUE_MAX`, default 10,000); one more is
   * refused with `WriteQueueFullError` ('connection'). Waiting has no time limit: under a burst
   * requests queue, and only a connection that cannot be established counts as Postgres away.
   */
  queueMax?: number;
  /** Called when an idle pooled connection fails (server restart, terminated backend). */
  onError?: (error: Error) => void;
  /**
   * Whether the statements named-statement.ts names are prepared under their names
   * (`DATABASE_NAMED_STATEMENTS`, default on). False sends every statement unnamed, for a proxy
   * that cannot keep prepared statements on a connection.
   */
  namedStatements?: boolean;
}

export function connectPostgres(options: PostgresOptions): DatabaseHandle & { pool: Pool } {
  const config: PoolConfig = {
    connectionString: options.url,
    application_name: options.applicationName,
    max: options.max ?? 10,
    // No limit on waiting for a pooled connection (that is load); a limit on making one.
    connectionTimeoutMillis: 0,
    Client: options.namedStatements === false ? UnnamedClient : TimedClient,
    options: `-c lock_timeout=${LOCK_TIMEOUT_MS}`,
  };
  const pool = new QueuedPool(config, options.queueMax ?? 10_000);
  // An idle client that errors (server restart, pg_terminate_backend) is dropped by the pool;
  // without a listener the error would crash the process.
  pool.on('error', (error) => options.onError?.(error));
  // A checked-out client (inside a transaction) has no listener of the pool's; its error also
  // fails the query in flight, so it is only reported here rather than crash the process.
  pool.on('connect', (client) => client.on('error', (error) => options.onError?.(error)));
  const db = drizzlePg(pool, { schema }) as unknown as Database;
  return {
    db,
    pool,
    close: () => pool.end(),
    ping: async () => {
      await pool.query('select 1');
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}

/** A client that gives up establishing its connection after {@link CONNECT_TIMEOUT_MS}. */
class TimedClient extends Client {
  constructor(config?: ConstructorParameters<typeof Client>[0]) {
    super({
      ...(typeof config === 'object' ? config : {}),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
  }
}

/** A {@link TimedClient} that sends every statement unnamed: nothing is prepared on the server. */
class UnnamedClient extends TimedClient {
  override query(...args: unknown[]): never {
    const [config] = args;
    if (typeof config === 'object' && config !== null && 'name' in config) {
      args[0] = { ...config, name: undefined };
    }
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

/** A pool whose wait queue is bounded by count, not by time. */
class QueuedPool extends Pool {
  constructor(
    config: PoolConfig,
    private readonly queueMax: number,
  ) {
    super(config);
  }

  // pg-pool calls connect() for query() too, with a callback.
  override connect(): Promise<PoolClient>;
  override connect(
    callback: (
      err: Error | undefined,
      client: PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): void;
  override connect(
    callback?: (
      err: Error | undefined,
      client: PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): Promise<PoolClient> | void {
    if (this.waitingCount >= this.queueMax) {
      const error = new WriteQueueFullError('connection', this.waitingCount);
      if (callback) return void process.nextTick(() => callback(error, undefined, () => undefined));
      return Promise.reject(error);
    }
    return callback ? super.connect(callback as never) : super.connect();
  }
}

export interface PgliteOptions {
  /** Data directory; `undefined` keeps everything in memory. */
  dataDir?: string;
}

export async function connectPglite(options: PgliteOptions): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const client = await PGlite.create(options.dataDir);
  const db = drizzle(client, { schema }) as unknown as Database;
  return {
    db,
    close: () => client.close(),
    ping: async () => {
      await client.query('select 1');
    },
  };
}
