import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { Pool, type PoolConfig } from 'pg';
import * as schema from './schema';

/** A drizzle handle on either node-postgres or PGlite; the store works on both. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** DI token of the {@link Database}. */
export const DATABASE = Symbol('DATABASE');

export interface DatabaseHandle {
  db: Database;
  close(): Promise<void>;
  /** Runs a connectivity check (for readiness probes). */
  ping(): Promise<void>;
}

export interface PostgresOptions {
  url: string;
  applicationName: string;
  max?: number;
  /** Called when an idle pooled connection fails (server restart, terminated backend). */
  onError?: (error: Error) => void;
}

export function connectPostgres(options: PostgresOptions): DatabaseHandle & { pool: Pool } {
  const config: PoolConfig = {
    connectionString: options.url,
    application_name: options.applicationName,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
  };
  const pool = new Pool(config);
  // An idle client that errors (server restart, pg_terminate_backend) is dropped by the pool;
  // without a listener the error would crash the process.
  pool.on('error', (error) => options.onError?.(error));
  const db = drizzlePg(pool, { schema }) as unknown as Database;
  return {
    db,
    pool,
    close: () => pool.end(),
    ping: async () => {
      await pool.query('select 1');
    },
  };
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
