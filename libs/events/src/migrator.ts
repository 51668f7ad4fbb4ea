import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Client } from 'pg';
import type { DatabaseHandle } from './database';

/** The migrator's own journal table. */
export const MIGRATIONS_TABLE = '__sessionwire_migrations';
const MIGRATIONS_SCHEMA = 'public';
/** Arbitrary constant key of the advisory lock that serializes concurrent migrators. */
const MIGRATION_LOCK_KEY = 7_341_926_001;

/** Finds the committed drizzle-kit migrations from source, the built bundle or the image root. */
export function migrationsFolder(): string {
  const candidates = [
    resolve(__dirname, '../migrations'),
    resolve(__dirname, '../../../libs/events/migrations'),
    join(process.cwd(), 'libs/events/migrations'),
  ];
  const found = candidates.find((dir) => existsSync(join(dir, 'meta/_journal.json')));
  if (!found) throw new Error(`migrations not found in any of: ${candidates.join(', ')}`);
  return found;
}

/**
 * Applies pending migrations to a Postgres server. Safe to run twice and from several processes
 * at once: a session-level advisory lock makes the others wait, then find nothing to do.
 */
export async function migratePostgres(url: string, applicationName: string): Promise<void> {
  const client = new Client({ connectionString: url, application_name: applicationName });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle(client), {
        migrationsFolder: migrationsFolder(),
        migrationsTable: MIGRATIONS_TABLE,
        migrationsSchema: MIGRATIONS_SCHEMA,
      });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

/** Applies pending migrations to an embedded PGlite database (one process owns it). */
export async function migratePglite(handle: DatabaseHandle): Promise<void> {
  const { migrate: migrateLite } = await import('drizzle-orm/pglite/migrator');
  await migrateLite(handle.db as never, {
    migrationsFolder: migrationsFolder(),
    migrationsTable: MIGRATIONS_TABLE,
    migrationsSchema: MIGRATIONS_SCHEMA,
  });
}
