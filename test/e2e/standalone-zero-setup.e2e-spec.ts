import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../process';
import { json, readStream, Standalone } from './standalone-process';

describe('npm start (standalone, nothing installed)', () => {
  let cwd: string;
  let app: Standalone;

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'sessionwire-standalone-'));
    app = new Standalone(cwd, await freePort());
  });

  afterAll(async () => {
    if (app.child && app.child.exitCode === null) await app.stop();
    rmSync(cwd, { recursive: true, force: true });
  }, 30_000);

  it('answers from an empty directory, streams the reply, and keeps history across a restart', async () => {
    await app.start();
    expect(app.output).toContain('embedded Postgres (PGlite) in ./.data, in-process bus');
    expect(app.output).toContain(`http://localhost:${app.port}/docs`);
    expect(app.output).toMatch(/curl -s -X POST http:\/\/localhost:\d+\/v1\/sessions/);
    // PGlite ran the committed migrations (found next to the bundle, not in this cwd).
    expect(readFileSync(join(cwd, '.data', 'PG_VERSION'), 'utf8').trim()).toBe('18');

    const session = await json(`${app.url}/v1/sessions`, { method: 'POST', body: '{}' });
    const id = session.id as string;
    expect(session.state).toBe('CREATED');
    const accepted = await json(`${app.url}/v1/sessions/${id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ clientMessageId: 'hello-1', content: 'hello standalone' }),
    });
    expect(accepted.seq).toBe(2);

    const frames = await readStream(
      `${app.url}/v1/sessions/${id}/stream`,
      (f) => f.event === 'turn.completed',
    );
    const stored = frames.filter((f) => f.id !== undefined);
    expect(stored.map((f) => Number(f.id))).toEqual(stored.map((_, i) => i + 1));
    const completed = frames.find((f) => f.event === 'message.completed');
    expect(JSON.parse(completed!.data).data.text).toBe('You said: hello standalone');
    const before = await json(`${app.url}/v1/sessions/${id}/events?after=0`);

    expect(await app.stop()).toBe(0);
    await app.start();

    // Everything written before the stop is still there; the drain only added the release.
    const after = (await json(`${app.url}/v1/sessions/${id}/events?after=0`)).events as {
      type: string;
      data: { to?: string };
    }[];
    const earlier = before.events as unknown[];
    expect(after.slice(0, earlier.length)).toEqual(earlier);
    expect(after.slice(earlier.length).map((e) => `${e.type}:${e.data.to}`)).toEqual([
      'session.state:SUSPENDED',
    ]);
    const duplicate = await json(`${app.url}/v1/sessions/${id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ clientMessageId: 'hello-1', content: 'hello standalone' }),
    });
    expect(duplicate).toMatchObject({ seq: 2, duplicate: true });
    expect(await app.stop()).toBe(0);
  }, 120_000);
});
