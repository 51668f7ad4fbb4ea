import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { connectPostgres, EventStore, LeaseStore, type DatabaseHandle } from '../libs/events/src';
import { databaseUrl, PG_URL_ENV, REDIS_URL_ENV, requireEnv, TEMPLATE_DB_ENV } from './services';

export interface TestDatabase {
  name: string;
  url: string;
  handle: DatabaseHandle;
  store: EventStore;
  leases: LeaseStore;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: requireEnv(PG_URL_ENV) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sw_t_${randomBytes(6).toString('hex')}`;
  const template = requireEnv(TEMPLATE_DB_ENV);
  await admin(async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`create database ${name} template ${template}`);
        return;
      } catch (error) {
        // Postgres refuses to copy a template while another CREATE DATABASE is copying it.
        if (attempt > 20 || !/being accessed by other users/.test(String(error))) throw error;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  const url = databaseUrl(requireEnv(PG_URL_ENV), name);
  const handle = connectPostgres({ url, applicationName: 'sessionwire-test', max: 20 });
  const store = new EventStore(handle.db);
  return {
    name,
    url,
    handle,
    store,
    leases: new LeaseStore(store),
    drop: async () => {
      await handle.close();
      await admin((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

export function testRedisUrl(): string {
  return requireEnv(REDIS_URL_ENV);
}

/** A Redis key/channel prefix of one test file, so files running in parallel never meet. */
export function testRedisPrefix(): string {
  return `swtest:${randomBytes(4).toString('hex')}:`;
}
