import { Client } from 'pg';
import { PG_URL_ENV, TEMPLATE_DB_ENV } from './services';

export default async function globalTeardown(): Promise<void> {
  const template = process.env[TEMPLATE_DB_ENV];
  const pgUrl = process.env[PG_URL_ENV];
  if (!template || !pgUrl) return;
  // Both service tiers share this teardown; jest runs every project's teardown after all tests,
  // so the first one cleans up and the next finds nothing to do.
  const g = globalThis as Record<string, unknown>;
  const admin = new Client({ connectionString: pgUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${template} with (force)`);
  } finally {
    await admin.end();
  }
  const containers = (g.__sessionwireContainers ?? []) as { stop(): Promise<unknown> }[];
  await Promise.all(containers.map((c) => c.stop()));
  containers.length = 0;
  delete process.env[TEMPLATE_DB_ENV];
}
