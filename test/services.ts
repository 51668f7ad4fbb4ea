/**
 * Where the test services are. Postgres and Redis come from TEST_DATABASE_URL / TEST_REDIS_URL
 * when set, otherwise from testcontainers (started once per run by global-setup.ts).
 */
export const TEMPLATE_DB_ENV = 'SESSIONWIRE_TEST_TEMPLATE_DB';
export const PG_URL_ENV = 'SESSIONWIRE_TEST_PG_URL';
export const REDIS_URL_ENV = 'SESSIONWIRE_TEST_REDIS_URL';

/** The admin URL of the test Postgres server with another database name. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests through jest's global setup`);
  return value;
}
