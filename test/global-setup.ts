import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migratePostgres } from '../libs/events/src/migrator';
import { databaseUrl, PG_URL_ENV, REDIS_URL_ENV, TEMPLATE_DB_ENV } from './services';

interface Started {
  stop(): Promise<unknown>;
}
const started: Started[] = ((globalThis as Record<string, unknown>).__sessionwireContainers ??=
  []) as Started[];

async function provideServices(): Promise<{ pgUrl: string; redisUrl: string }> {
  const pgUrl = process.env.TEST_DATABASE_URL;
  const redisUrl = process.env.TEST_REDIS_URL;
  if (pgUrl && redisUrl) return { pgUrl, redisUrl };
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    throw new Error(
      'Tests need Postgres and Redis: set TEST_DATABASE_URL and TEST_REDIS_URL ' +
        '(e.g. postgres://postgres@127.0.0.1:5432/postgres and redis://127.0.0.1:6379), ' +
        'or start a Docker engine so testcontainers can run them.',
    );
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { RedisContainer } = await import('@testcontainers/redis');
  const [pg, redis] = await Promise.all([
    pgUrl ? undefined : new PostgreSqlContainer('postgres:15-alpine').start(),
    redisUrl ? undefined : new RedisContainer('redis:7-alpine').start(),
  ]);
  if (pg) started.push(pg);
  if (redis) started.push(redis);
  return {
    pgUrl: pgUrl ?? pg!.getConnectionUri(),
    redisUrl: redisUrl ?? redis!.getConnectionUrl(),
  };
}

/** Starts (or finds) the services once per run and migrates a template database to clone. */
export default async function globalSetup(): Promise<void> {
  if (process.env[TEMPLATE_DB_ENV]) return; // another project of this run already did it
  const { pgUrl, redisUrl } = await provideServices();
  const template = `sw_tpl_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: pgUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${template}`);
  } finally {
    await admin.end();
  }
  await migratePostgres(databaseUrl(pgUrl, template), 'sessionwire-test');
  process.env[PG_URL_ENV] = pgUrl;
  process.env[REDIS_URL_ENV] = redisUrl;
  process.env[TEMPLATE_DB_ENV] = template;
}
