import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../chromium';
import { createTestDatabase, testRedisPrefix, testRedisUrl, type TestDatabase } from '../database';
import { freePort, ManagedProcess, sleep } from '../process';
import { ClientTestProxy } from './client-test-proxy';

const ROOT = resolve(__dirname, '..', '..');
const BUNDLE = resolve(ROOT, 'packages/client/dist/index.mjs');
const PAGE = resolve(ROOT, 'test/browser/client-page.html');
const API_KEY = 'browser-test-api-key-0001';
const AUTH_SECRET = 'browser-test-auth-secret-of-at-least-32-bytes';
interface PageState {
  seqs: number[];
  replies: string[];
  accepted: string[];
  failed: string[];
  processed: string[];
  reconnects: number;
  closed: string | null;
  restored: number | null;
}

/** What the test page exposes on `window`. */
interface TestWindow {
  sessionwire: { send(text: string): Promise<string>; pending(): number; state(): PageState };
}

async function api<T>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status >= 300)
    throw new Error(`POST ${url} → ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

describe('client SDK bundle in Chromium', () => {
  let db: TestDatabase;
  let apiNode: ManagedProcess;
  let worker: ManagedProcess;
  let proxy: ClientTestProxy;
  let origin: string;
  let apiUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build:client`);
    db = await createTestDatabase();
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    const common = {
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: testRedisPrefix(),
    };
    apiNode = new ManagedProcess({
      name: 'api',
      entry: 'dist/apps/api/main.js',
      env: {
        ...common,
        PORT: String(port),
        API_KEYS: API_KEY,
        AUTH_SECRET,
        HEARTBEAT_MS: '1000',
        SYNC_INTERVAL_MS: '250',
        DRAIN_MS: '300',
      },
      readyUrl: `${apiUrl}/readyz`,
    });
    worker = new ManagedProcess({
      name: 'worker',
      entry: 'dist/apps/worker/main.js',
      env: {
        ...common,
        WORKER_ID: 'browser-worker',
        WORKER_POLL_MS: '100',
        LEASE_MS: '2000',
        PORT: undefined,
      },
    });
    await Promise.all([apiNode.start(), worker.start()]);
    proxy = new ClientTestProxy(apiUrl, {
      files: {
        '/': { path: PAGE, type: 'text/html; charset=utf-8' },
        '/sdk/index.mjs': { path: BUNDLE, type: 'text/javascript; charset=utf-8' },
      },
    });
    origin = await proxy.listen();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await Promise.all([apiNode?.stop(), worker?.stop()]);
    await db?.drop();
  });

  const state = (page: Page) =>
    page.evaluate(() => (window as unknown as TestWindow).sessionwire.state());
  const send = (page: Page, text: string) =>
    page.evaluate((t) => (window as unknown as TestWindow).sessionwire.send(t), text);
  const waitForReplies = (page: Page, count: number) =>
    page.waitForFunction(
      (n) => (window as unknown as TestWindow).sessionwire.state().replies.length >= n,
      count,
      {
        timeout: 60_000,
        polling: 100,
      },
    );

  async function open(page: Page, sessionId: string, token: string): Promise<void> {
    await page.goto(`${origin}/?session=${sessionId}&token=${token}&heartbeatMs=1000`);
    await page.waitForFunction(() => document.title === 'ready', null, { timeout: 15_000 });
  }

  it('ends with every reply exactly once across API restarts and a page reload', async () => {
    const session = await api<{ id: string }>(`${apiUrl}/v1/sessions`, {});
    const { token } = await api<{ token: string }>(`${apiUrl}/v1/sessions/${session.id}/tokens`, {
      scope: ['read', 'write'],
    });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await open(page, session.id, token);

    for (let i = 0; i < 3; i++) await send(page, `hello ${i}`);
    await waitForReplies(page, 3);

    await apiNode.kill('SIGKILL');
    await send(page, 'hello 3');
    await send(page, 'hello 4');
    await sleep(1000);
    await apiNode.start();
    await waitForReplies(page, 5);
    const expected = (n: number) => Array.from({ length: n }, (_, i) => `You said: hello ${i}`);
    let seen = await state(page);
    expect(seen.replies).toEqual(expected(5));
    expect(seen.reconnects).toBeGreaterThanOrEqual(1);
    expect(seen.processed).toEqual(seen.accepted);

    // Down again; a message is queued in localStorage and the page reloads before the API is back.
    await apiNode.kill('SIGKILL');
    const queuedId = await send(page, 'hello 5');
    await page.reload();
    await page.waitForFunction(() => document.title === 'ready', null, { timeout: 15_000 });
    await page.waitForFunction(
      () => (window as unknown as TestWindow).sessionwire.state().restored !== null,
    );
    expect((await state(page)).restored).toBe(1);
    await apiNode.start();
    await waitForReplies(page, 6);
    await sleep(500); // anything duplicated would arrive now
    seen = await state(page);

    const log = await db.store.getEventsAfter(session.id, 0, 10_000);
    expect(seen.replies).toEqual(expected(6));
    expect(seen.seqs).toEqual(log.map((e) => e.seq).filter((s) => s <= seen.seqs.at(-1)!));
    expect(seen.accepted).toEqual([queuedId]);
    expect(seen.failed).toEqual([]);
    expect(seen.closed).toBeNull();
    const users = log.filter((e) => e.type === 'message.user').map((e) => e.data);
    expect(users.map((d) => (d as { content: string }).content)).toEqual(
      Array.from({ length: 6 }, (_, i) => `hello ${i}`),
    );
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 180_000); // API restarts and a page reload: longer than the tier's default
});
