import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../chromium';
import { createTestDatabase, type TestDatabase } from '../database';
import { freePort } from '../process';
import { Standalone } from './standalone-process';

const API_KEY = 'playground-test-key-0001';
// `UPDATE_SCREENSHOTS=1` writes them into docs/ for the README; otherwise into a temp folder.
const SHOTS = process.env.UPDATE_SCREENSHOTS
  ? resolve(__dirname, '../../docs')
  : mkdtempSync(join(tmpdir(), 'sessionwire-shots-'));
const tokens = (n: number) => Array.from({ length: n }, (_, i) => `t${i} `).join('');

describe('playground page in Chromium (npm start, auth on)', () => {
  let db: TestDatabase;
  let app: Standalone;
  let browser: Browser;
  let page: Page;
  let cwd: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'sessionwire-playground-'));
    db = await createTestDatabase();
    app = new Standalone(cwd, await freePort(), {
      DATABASE_URL: db.url,
      API_KEYS: API_KEY,
      HEARTBEAT_MS: '1000',
    });
    [browser] = await Promise.all([launchChromium(), app.start()]);
    page = await browser.newPage({ viewport: { width: 980, height: 560 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    if (app?.child && app.child.exitCode === null) await app.stop();
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  const agentText = (turn: number) =>
    page.locator('.msg.agent .text').nth(turn).textContent({ timeout: 30_000 });
  const stops = () => page.locator('.stop');
  const ready = () => page.waitForSelector('body[data-ready]', { timeout: 30_000 });

  async function send(text: string): Promise<void> {
    await page.fill('#message', text);
    await page.press('#message', 'Enter');
  }

  it('asks for the API key, creates a session and renders the streamed reply', async () => {
    expect(app.output).toContain(`Playground  http://localhost:${app.port}/`);
    await page.goto(`${app.url}/`);
    await page.waitForSelector('#auth:not([hidden])');
    await page.fill('#api-key', API_KEY);
    await page.click('#auth button');
    await ready();
    await page.click('#create button');
    await page.waitForFunction(
      () => !(document.getElementById('message') as HTMLInputElement).disabled,
    );
    await send('hello playground');
    await page.waitForFunction(() => document.querySelectorAll('.stop').length === 1);
    expect(await agentText(0)).toBe('You said: hello playground');
    await send('/tool search');
    await send('/fail');
    await page.waitForFunction(() => document.querySelectorAll('.stop').length === 3);
    expect(await page.locator('.tool').allTextContents()).toEqual(['→ search({})', '← "ok"']);
    expect(await page.locator('.msg.error').textContent()).toMatch(/^agent_failed: /);
    expect(await stops().allTextContents()).toEqual([
      'end_turn',
      'end_turn',
      'error (agent_failed)',
    ]);
    await page.waitForSelector('#frame-log li.heartbeat', { timeout: 10_000 });
    expect(await page.locator('#frame-log li.control').allTextContents()).toContainEqual(
      expect.stringMatching(/^live caught up at/),
    );
    expect(await page.textContent('#connection')).toMatch(/^open/);
    expect(await page.locator('#session-list li').count()).toBe(1);
  });

  it('picks the reply up where it was after a reload mid-turn', async () => {
    await send('/stream 30 100');
    await page.waitForFunction(() =>
      /t5 /.test(document.querySelectorAll('.msg.agent .text')[3]?.textContent ?? ''),
    );
    await page.reload();
    await ready();
    await page.waitForFunction(() => document.querySelectorAll('.stop').length === 4, null, {
      timeout: 30_000,
    });
    expect(await agentText(3)).toBe(tokens(30));
    const seqs = (await page
      .locator('#frame-log li[data-seq]')
      .evaluateAll((items) =>
        items.map((item) => Number((item as HTMLElement).dataset.seq)),
      )) as number[];
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(Number(await page.textContent('#cursor'))).toBe(seqs.at(-1));
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'playground.png') });
    expect(statSync(join(SHOTS, 'playground.png')).size).toBeGreaterThan(10_000);
  });

  it('interrupts a running turn and ends the session', async () => {
    await send('/stream 1000 50');
    await page.waitForFunction(() =>
      /t3 /.test(document.querySelectorAll('.msg.agent .text')[4]?.textContent ?? ''),
    );
    await page.click('#interrupt');
    await page.waitForSelector('.stop[data-stop-reason="interrupted"]', { timeout: 30_000 });
    expect(await page.locator('.msg.system', { hasText: 'interrupt requested' }).count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'playground-interrupt.png') });
    await page.click('#end');
    await page.waitForFunction(
      () => /closed: ended/.test(document.getElementById('connection')!.textContent!),
      null,
      {
        timeout: 30_000,
      },
    );
    expect(await page.isDisabled('#send')).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('serves the SDK under /sdk/ and keeps the page out of the OpenAPI document', async () => {
    const sdk = await fetch(`${app.url}/sdk/index.mjs`);
    expect(sdk.status).toBe(200);
    expect(sdk.headers.get('content-type')).toMatch(/javascript/);
    expect(await sdk.text()).toContain('SessionStream');
    const doc = (await (await fetch(`${app.url}/openapi.json`)).json()) as { paths: object };
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/v1/'))).toEqual(
      expect.not.arrayContaining(['/', '/sdk/index.mjs', '/playground/config.json']),
    );
  });
});
