import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../chromium';
import { createTestDatabase, type TestDatabase } from '../database';
import { examples, type DocBlock } from '../docs/doc-examples';
import { freePort } from '../process';
import { projectWithClient, runNode } from './client-package-install';
import { json, Standalone } from './standalone-process';

const API_KEY = 'readme-examples-key-0001';
const AUTH = { API_KEYS: API_KEY, AUTH_SECRET: 'readme-examples-secret-of-at-least-32-bytes' };
const label = (b: DocBlock) => `${b.file}:${b.line}`;

/**
 * Runs every code block marked `<!-- example: … -->` in README.md, docs/client.md and the SDK's
 * README, as written, against `npm start`: once with auth off (as a new user runs it) and once with
 * auth on (the token from the environment or the page's URL, as the blocks say).
 */
describe('documented examples, run as written', () => {
  const servers: Record<'open' | 'secured', Standalone | undefined> = {
    open: undefined,
    secured: undefined,
  };
  const databases: TestDatabase[] = [];
  const dirs: string[] = [];
  let project: { dir: string };
  let browser: Browser;

  beforeAll(async () => {
    const start = async (name: 'open' | 'secured', env: Record<string, string>) => {
      const db = await createTestDatabase();
      databases.push(db);
      const cwd = mkdtempSync(join(tmpdir(), 'sessionwire-examples-'));
      dirs.push(cwd);
      const app = new Standalone(cwd, await freePort(), { DATABASE_URL: db.url, ...env });
      servers[name] = app;
      await app.start();
    };
    [project, browser] = await Promise.all([
      projectWithClient(),
      launchChromium(),
      start('open', {}),
      start('secured', AUTH),
    ]);
    dirs.push(project.dir);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    for (const app of Object.values(servers)) {
      if (app?.child && app.child.exitCode === null) await app.stop();
    }
    for (const db of databases) await db.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const cases = (kind: 'node' | 'browser') =>
    examples(kind).flatMap((b) =>
      (['open', 'secured'] as const).map((auth) => [label(b), auth, b] as const),
    );

  it.each(cases('node'))(
    '%s runs in Node (auth %s) and prints what it says',
    async (_where, auth, block) => {
      const app = servers[auth]!;
      const file = `example-${block.file.replace(/\W/g, '-')}-${block.line}.mjs`;
      writeFileSync(join(project.dir, file), block.code);
      const env: Record<string, string> = { SESSIONWIRE_URL: app.url, SESSIONWIRE_URLS: app.url };
      if (auth === 'secured') env.SESSIONWIRE_API_KEY = API_KEY;
      expect(await runNode(file, project.dir, env)).toContain(block.example!.expect);
    },
  );

  it.each(cases('browser'))(
    '%s runs in Chromium (auth %s) and shows what it says',
    async (_where, auth, block) => {
      const app = servers[auth]!;
      let query = '';
      if (auth === 'secured') {
        const bearer = { authorization: `Bearer ${API_KEY}` };
        const { id } = await json(`${app.url}/v1/sessions`, {
          method: 'POST',
          body: '{}',
          headers: bearer,
        });
        const { token } = await json(`${app.url}/v1/sessions/${id}/tokens`, {
          method: 'POST',
          body: JSON.stringify({ scope: ['read', 'write'] }),
          headers: bearer,
        });
        query = `?session=${id}&token=${token}`;
      }
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      // The block is the page, served from the API's origin; /v1 and /sdk go to the real server.
      await page.route(`${app.url}/example.html*`, (route) =>
        route.fulfill({ body: block.code, contentType: 'text/html; charset=utf-8' }),
      );
      await page.goto(`${app.url}/example.html${query}`);
      await page.waitForFunction(
        (text) => document.body.innerText.includes(text),
        block.example!.expect,
        {
          timeout: 30_000,
        },
      );
      expect(errors).toEqual([]);
      await page.close();
    },
  );

  it('README.md Node example stops at once with the cause when no server is there', async () => {
    const [block] = examples('node');
    writeFileSync(join(project.dir, 'nobody-there.mjs'), block.code);
    const closed = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const failure = await runNode('nobody-there.mjs', project.dir, {
      SESSIONWIRE_URL: closed,
    }).then(
      () => 'exited 0',
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/ECONNREFUSED|fetch failed/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
