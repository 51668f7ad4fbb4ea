import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, testRedisUrl, type TestDatabase } from '../database';
import { freePort } from '../process';
import { json, readStream, Standalone } from './standalone-process';

describe('npm start with service URLs', () => {
  let cwd: string;
  let db: TestDatabase;
  let app: Standalone | undefined;

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'sessionwire-standalone-'));
    db = await createTestDatabase();
  }, 30_000);

  afterEach(async () => {
    if (app?.child && app.child.exitCode === null) await app.stop();
    app = undefined;
  }, 30_000);

  afterAll(async () => {
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  }, 30_000);

  it('uses the Postgres of DATABASE_URL with the in-process bus', async () => {
    app = new Standalone(cwd, await freePort(), { DATABASE_URL: db.url });
    await app.start();
    expect(app.output).toContain('Postgres at 127.0.0.1:5432, in-process bus');

    const { id } = await json(`${app.url}/v1/sessions`, { method: 'POST', body: '{}' });
    await json(`${app.url}/v1/sessions/${id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ content: '/tool search' }),
    });
    const frames = await readStream(
      `${app.url}/v1/sessions/${id}/stream`,
      (f) => f.event === 'turn.completed',
    );
    const log = await db.store.getEventsAfter(id as string, 0, 1000);
    const streamed = frames.filter((f) => f.id !== undefined).map((f) => Number(f.id));
    expect(streamed).toEqual(log.slice(0, streamed.length).map((e) => e.seq));
    expect(log.map((e) => e.type)).toEqual(expect.arrayContaining(['tool.call', 'tool.result']));
    expect(existsSync(join(cwd, '.data'))).toBe(false);
    expect(await app.stop()).toBe(0);
  }, 120_000);

  it('refuses REDIS_URL without DATABASE_URL, naming both', async () => {
    app = new Standalone(cwd, await freePort(), { REDIS_URL: testRedisUrl() });
    expect(await app.startExpectingExit()).toBe(1);
    expect(app.output).toMatch(/REDIS_URL is set without DATABASE_URL/);
    expect(existsSync(join(cwd, '.data'))).toBe(false);
  }, 60_000);
});
