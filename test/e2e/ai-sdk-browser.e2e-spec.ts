import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { demoReply as reply } from '../ai-sdk-client';
import { launchChromium } from '../chromium';
import { createTestDatabase, testRedisPrefix, testRedisUrl, type TestDatabase } from '../database';
import { freePort, ManagedProcess } from '../process';
import { ClientTestProxy } from './client-test-proxy';
import { workerProcess } from './worker-processes';

const ROOT = resolve(__dirname, '..', '..');
const API_KEY = 'ai-sdk-browser-api-key-0001';
const AUTH_SECRET = 'ai-sdk-browser-auth-secret-of-at-least-32-bytes';

interface ChatWindow {
  chat: { send(text: string): void };
  rendered: string[];
  loaded: string;
  state: { status: string; error: string | null; messages: { role: string; text: string }[] };
}

describe('useChat({ resume: true }) in Chromium against two API nodes', () => {
  let db: TestDatabase;
  let dir: string;
  let browser: Browser;
  let proxy: ClientTestProxy;
  let origin: string;
  const nodes: { node: ManagedProcess; url: string }[] = [];
  let worker: ManagedProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'sessionwire-ai-sdk-page-'));
    const prefix = testRedisPrefix();
    for (const name of ['api-a', 'api-b']) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const node = new ManagedProcess({
        name,
        entry: 'dist/apps/api/main.js',
        env: {
          DATABASE_URL: db.url,
          REDIS_URL: testRedisUrl(),
          REDIS_PREFIX: prefix,
          PORT: String(port),
          API_KEYS: API_KEY,
          AUTH_SECRET,
          HEARTBEAT_MS: '1000',
        },
        readyUrl: `${url}/readyz`,
      });
      nodes.push({ node, url });
    }
    worker = workerProcess(db, prefix, 'ai-sdk-browser-worker', { WORKER_POLL_MS: '100' });
    const bundle = join(dir, 'ai-sdk-page.js');
    [browser] = await Promise.all([
      launchChromium(),
      build({
        entryPoints: [resolve(ROOT, 'test/browser/ai-sdk-page.ts')],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        outfile: bundle,
        define: { 'process.env.NODE_ENV': '"production"' },
        logLevel: 'error',
      }),
      ...nodes.map(({ node }) => node.start()),
      worker.start(),
    ]);
    proxy = new ClientTestProxy(nodes[0].url, {
      files: {
        '/': { path: resolve(ROOT, 'test/browser/ai-sdk-page.html'), type: 'text/html' },
        '/ai-sdk-page.js': { path: bundle, type: 'text/javascript; charset=utf-8' },
      },
    });
    origin = await proxy.listen();
  });

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await Promise.all([...nodes.map(({ node }) => node.stop()), worker?.stop()]);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${nodes[1].url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, string>;
  };
  const state = (page: Page) => page.evaluate(() => (window as unknown as ChatWindow).state);
  const assistantText = (page: Page) =>
    page.evaluate(() =>
      (window as unknown as ChatWindow).state.messages
        .filter((m) => m.role === 'assistant')
        .map((m) => m.text)
        .join('|'),
    );

  it('completes a reply once, without duplicated text, after a reload onto the other node', async () => {
    const { id } = await post('/v1/sessions', {});
    const { token } = await post(`/v1/sessions/${id}/tokens`, { scope: ['read', 'write'] });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const url = `${origin}/?session=${id}&token=${token}`;
    await page.goto(url);
    await page.waitForFunction(() => document.title === 'ready');
    const full = reply(150);

    await page.evaluate(() => (window as unknown as ChatWindow).chat.send('/stream 150 20'));
    await page.waitForFunction(
      (n) => {
        const s = (window as unknown as ChatWindow).state;
        return s.messages.some((m) => m.role === 'assistant' && m.text.length >= n);
      },
      reply(15).length,
      { polling: 50 },
    );
    const before = await assistantText(page);
    expect(full.startsWith(before)).toBe(true);
    expect(before.length).toBeLessThan(full.length);

    // The node that served the page goes away; the reloaded page resumes through the other one.
    proxy.setUpstream(nodes[1].url);
    await nodes[0].node.kill('SIGKILL');
    const forwarded = proxy.forwarded.length;
    await page.reload();
    await page.waitForFunction(() => document.title === 'ready');
    await page.waitForFunction(
      (n) => {
        const s = (window as unknown as ChatWindow).state;
        return s.status === 'ready' && s.messages.some((m) => m.text.length >= n);
      },
      full.length,
      { polling: 100, timeout: 30_000 },
    );
    const after = await state(page);
    expect(after.error).toBeNull();
    expect(after.messages).toEqual([
      { role: 'user', text: '/stream 150 20' },
      { role: 'assistant', text: full },
    ]);
    // The reloaded page resumed the running turn (it had not finished when the page came back).
    expect(proxy.forwarded.slice(forwarded)).toContain(`GET /v1/ai-sdk/chat/${id}/stream`);
    const loaded = await page.evaluate(() => (window as unknown as ChatWindow).loaded);
    expect(full.startsWith(loaded) && loaded.length < full.length).toBe(true);
    const rendered = await page.evaluate(() => (window as unknown as ChatWindow).rendered);
    for (const text of rendered) expect(full.startsWith(text)).toBe(true);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
