import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { connectPostgres, EventStore, LeaseStore } from '../libs/events/src';
import { migratePostgres } from '../libs/events/src/migrator';
import type { TestDatabase } from './database';
import { freePort, waitFor } from './process';

const run = promisify(execFile);
const BIN = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';

/**
 * A private Postgres server (Debian's `initdb` + `pg_ctl`) on a free loopback port, its data in a
 * temporary directory, so a test may restart, stop or cut it without disturbing any other test.
 * Run as the `postgres` OS user when the test runs as root (Postgres refuses to run as root).
 * Tuned for tests: no fsync, no synchronous commit.
 */
export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Creates, starts and migrates a new server. */
  static async start(): Promise<PrivatePostgres> {
    const dir = await mkdtemp(join(tmpdir(), 'sw-pg-'));
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', OS_USER]);
      const { stdout: gid } = await run('id', ['-g', OS_USER]);
      await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    const pg = new PrivatePostgres(await freePort(), dir);
    await pg.as('initdb', [
      '-D',
      pg.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    await pg.launch();
    await migratePostgres(pg.url, 'sessionwire-test');
    return pg;
  }

  /** Starts the server (again) and waits until it accepts connections. */
  async launch(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      "-c listen_addresses='127.0.0.1'",
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=100',
    ].join(' ');
    await this.as('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-o',
      options,
      'start',
    ]);
    await waitFor('private Postgres accepting connections', () => this.accepting(), 20_000, 100);
  }

  /** Stops the server; `immediate` drops every connection at once (a crash-like restart). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.as('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', 'stop']);
  }

  /** `pg_ctl restart`: every backend is terminated, the server is back when it returns. */
  async restart(): Promise<void> {
    await this.stop('fast');
    await this.launch();
  }

  /** Terminates every backend whose `application_name` is `name`; returns how many. */
  async terminate(applicationName: string): Promise<number> {
    return this.withClient(async (client) => {
      const { rows } = await client.query<{ ok: boolean }>(
        `select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1`,
        [applicationName],
      );
      return rows.filter((r) => r.ok).length;
    });
  }

  /** A {@link TestDatabase} on this server's `postgres` database (dropping it closes the pool). */
  database(): TestDatabase {
    const handle = connectPostgres({
      url: this.url,
      applicationName: 'sessionwire-test',
      max: 5,
      onError: () => undefined, // the test restarts the server under this pool on purpose
    });
    const store = new EventStore(handle.db);
    return {
      name: 'postgres',
      url: this.url,
      handle,
      store,
      leases: new LeaseStore(store),
      drop: () => handle.close(),
    };
  }

  /** Stops the server and removes its files. */
  async destroy(): Promise<void> {
    try {
      await this.stop('immediate');
    } catch {
      // not running
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private async accepting(): Promise<boolean> {
    await this.withClient((client) => client.query('select 1'));
    return true;
  }

  private async withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({
      connectionString: this.url,
      application_name: 'sessionwire-fault-test',
    });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  private async as(tool: string, args: string[]): Promise<void> {
    const command = join(BIN, tool);
    const asRoot = process.getuid?.() === 0;
    await run(
      asRoot ? 'runuser' : command,
      asRoot ? ['-u', OS_USER, '--', command, ...args] : args,
      {
        cwd: this.dir,
      },
    );
  }
}
