import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { databaseUrl, PG_URL_ENV, requireEnv } from '../../../test/services';
import { MIGRATIONS_TABLE, migratePostgres } from './migrator';

describe('migratePostgres', () => {
  const serverUrl = () => requireEnv(PG_URL_ENV);
  const created: string[] = [];

  async function admin(query: string): Promise<void> {
    const client = new Client({ connectionString: serverUrl() });
    await client.connect();
    try {
      await client.query(query);
    } finally {
      await client.end();
    }
  }

  async function emptyDatabase(): Promise<string> {
    const name = `sw_m_${randomBytes(5).toString('hex')}`;
    await admin(`create database ${name}`);
    created.push(name);
    return databaseUrl(serverUrl(), name);
  }

  async function schemaOf(url: string) {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const tables = await client.query(
        `select table_name from information_schema.tables
         where table_schema = 'public' order by table_name`,
      );
      const journal = await client.query(`select hash from public.${MIGRATIONS_TABLE}`);
      return { tables: tables.rows.map((r) => r.table_name), applied: journal.rowCount };
    } finally {
      await client.end();
    }
  }

  afterAll(async () => {
    for (const name of created) await admin(`drop database if exists ${name} with (force)`);
  });

  it('runs twice in a row and leaves one schema', async () => {
    const url = await emptyDatabase();
    await migratePostgres(url, 'sessionwire-test');
    await migratePostgres(url, 'sessionwire-test');
    expect(await schemaOf(url)).toEqual({
      tables: [MIGRATIONS_TABLE, 'events', 'sessions'].sort(),
      applied: 1,
    });
  });

  it('runs from several processes at once and leaves one schema', async () => {
    const url = await emptyDatabase();
    await Promise.all(Array.from({ length: 4 }, () => migratePostgres(url, 'sessionwire-test')));
    expect(await schemaOf(url)).toEqual({
      tables: [MIGRATIONS_TABLE, 'events', 'sessions'].sort(),
      applied: 1,
    });
  });
});
