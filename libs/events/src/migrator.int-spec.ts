import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Client } from 'pg';
import { databaseUrl, PG_URL_ENV, requireEnv } from '../../../test/services';
import { MIGRATIONS_TABLE, migratePostgres, migrationsFolder } from './migrator';

interface Journal {
  entries: { idx: number; tag: string }[];
}

const journal = (folder: string): Journal =>
  JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8')) as Journal;
const MIGRATIONS = journal(migrationsFolder()).entries.length;

/** A copy of the migrations folder holding only the first `count` migrations (an older schema). */
function migrationsUpTo(count: number): string {
  const folder = mkdtempSync(join(tmpdir(), 'sw-migrations-'));
  cpSync(migrationsFolder(), folder, { recursive: true });
  const trimmed = journal(folder);
  trimmed.entries = trimmed.entries.slice(0, count);
  writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify(trimmed));
  return folder;
}

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
      // tables, not the partitions of one
      const tables = await client.query(
        `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
         order by c.relname`,
      );
      const journal = await client.query(`select hash from public.${MIGRATIONS_TABLE}`);
      return { tables: tables.rows.map((r) => r.relname), applied: journal.rowCount };
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
      tables: [MIGRATIONS_TABLE, 'events', 'message_keys', 'sessions'].sort(),
      applied: MIGRATIONS,
    });
  });

  it('runs from several processes at once and leaves one schema', async () => {
    const url = await emptyDatabase();
    await Promise.all(Array.from({ length: 4 }, () => migratePostgres(url, 'sessionwire-test')));
    expect(await schemaOf(url)).toEqual({
      tables: [MIGRATIONS_TABLE, 'events', 'message_keys', 'sessions'].sort(),
      applied: MIGRATIONS,
    });
  });

  it('rewrites v1 `error` events as `agent.error` and leaves other rows alone', async () => {
    const url = await emptyDatabase();
    const v1 = migrationsUpTo(1);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await migrate(drizzle(client), {
        migrationsFolder: v1,
        migrationsTable: MIGRATIONS_TABLE,
        migrationsSchema: 'public',
      });
      const id = '01890000-0000-7000-8000-000000000001';
      await client.query(
        `insert into sessions (id, agent, state, head_seq) values ($1, 'demo', 'ACTIVE', 3)`,
        [id],
      );
      await client.query(
        `insert into events (session_id, seq, type, data) values
           ($1, 1, 'session.state', '{"from":null,"to":"CREATED","reason":"created"}'),
           ($1, 2, 'error', '{"code":"agent_failed","message":"boom"}'),
           ($1, 3, 'message.delta', '{"turnId":"t","text":"error"}')`,
        [id],
      );
      await migratePostgres(url, 'sessionwire-test');
      const rows = await client.query(`select seq, type, data from events order by seq`);
      expect(rows.rows.map((r) => [Number(r.seq), r.type])).toEqual([
        [1, 'session.state'],
        [2, 'agent.error'],
        [3, 'message.delta'],
      ]);
      expect(rows.rows[1].data).toEqual({ code: 'agent_failed', message: 'boom' });
    } finally {
      await client.end();
      rmSync(v1, { recursive: true, force: true });
    }
  });

  it('partitions events and keeps every existing row, its idempotency key and its order', async () => {
    const url = await emptyDatabase();
    const v2 = migrationsUpTo(2);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await migrate(drizzle(client), {
        migrationsFolder: v2,
        migrationsTable: MIGRATIONS_TABLE,
        migrationsSchema: 'public',
      });
      const id = '01890000-0000-7000-8000-000000000002';
      await client.query(
        `insert into sessions (id, agent, state, head_seq, created_at)
         values ($1, 'demo', 'ACTIVE', 3, now() - interval '40 days')`,
        [id],
      );
      await client.query(
        `insert into events (session_id, seq, type, data, client_message_id, created_at) values
           ($1, 1, 'session.state', '{"from":null,"to":"CREATED","reason":"created"}', null,
            now() - interval '40 days'),
           ($1, 2, 'message.user', '{"clientMessageId":"k1","content":"héllo"}', 'k1',
            now() - interval '39 days'),
           ($1, 3, 'message.delta', '{"turnId":"t","text":"hi"}', null, now())`,
        [id],
      );
      await migratePostgres(url, 'sessionwire-test');
      const kind = await client.query(`select relkind from pg_class where relname = 'events'`);
      expect(kind.rows[0].relkind).toBe('p');
      const rows = await client.query(
        `select seq, tableoid::regclass::text as part from events where session_id = $1 order by seq`,
        [id],
      );
      expect(rows.rows.map((r) => [Number(r.seq), r.part])).toEqual([
        [1, 'events_legacy'],
        [2, 'events_legacy'],
        [3, 'events_legacy'],
      ]);
      const keys = await client.query(
        `select client_message_id, seq,
           content_sha256 = sha256(convert_to('héllo', 'UTF8')) as same from message_keys`,
      );
      expect(keys.rows).toEqual([{ client_message_id: 'k1', seq: '2', same: true }]);
      // the same key again fails, as the unique index it replaces did
      await expect(
        client.query(
          `insert into events (session_id, seq, type, data, client_message_id)
           values ($1, 4, 'message.user', '{"content":"again"}', 'k1')`,
          [id],
        ),
      ).rejects.toThrow(/message_keys/);
      const parts = await client.query(
        `select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
         where i.inhparent = 'events'::regclass order by c.relname`,
      );
      const names = parts.rows.map((r) => r.relname as string);
      expect(names.filter((n) => /^events_p\d{8}$/.test(n))).toHaveLength(3);
      expect(names).toEqual(expect.arrayContaining(['events_default', 'events_legacy']));
    } finally {
      await client.end();
      rmSync(v2, { recursive: true, force: true });
    }
  });
});
