import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '../database';
import { freePort } from '../process';
import { npm, PACKAGE_DIR, projectWithClient, ROOT, runNode } from './client-package-install';
import { Standalone } from './standalone-process';

const FIXTURES = join(__dirname, 'sdk-user');
// Node's built-in modules, by any name a bundle could require or import them.
const NODE_BUILTIN =
  /(?:require\(|from\s*|import\()\s*["'](?:node:[\w/]+|fs|path|http|https|net|os|crypto|stream|events|util|buffer|child_process)["']/;

describe('@sessionwire/client as an installed package', () => {
  let db: TestDatabase;
  let app: Standalone;
  let project: { dir: string; tarball: string };
  let cwd: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    cwd = mkdtempSync(join(tmpdir(), 'sessionwire-sdk-server-'));
    app = new Standalone(cwd, await freePort(), {
      DATABASE_URL: db.url,
      PLAYGROUND: 'off',
    });
    [project] = await Promise.all([projectWithClient(), app.start()]);
    for (const file of ['esm.mjs', 'cjs.cjs', 'types.mts', 'types.cts']) {
      copyFileSync(join(FIXTURES, file), join(project.dir, file));
    }
  }, 180_000);

  afterAll(async () => {
    if (app?.child && app.child.exitCode === null) await app.stop();
    await db?.drop();
    if (project) rmSync(project.dir, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }, 30_000);

  it('packs only the built files, the README and package.json, with zod as its one dependency', async () => {
    const [listing] = JSON.parse(await npm(['pack', '--dry-run', '--json'], PACKAGE_DIR)) as {
      files: { path: string }[];
    }[];
    expect(listing.files.map((f) => f.path).sort()).toEqual(
      [
        'README.md',
        'package.json',
        'dist/index.cjs',
        'dist/index.cjs.map',
        'dist/index.d.cts',
        'dist/index.d.mts',
        'dist/index.mjs',
        'dist/index.mjs.map',
      ].sort(),
    );
    const installed = JSON.parse(
      readFileSync(join(project.dir, 'node_modules/@sessionwire/client/package.json'), 'utf8'),
    ) as { dependencies: Record<string, string>; sideEffects: boolean };
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(installed.dependencies).toEqual({ zod: root.dependencies.zod });
    expect(installed.sideEffects).toBe(false);
    for (const file of ['index.mjs', 'index.cjs']) {
      const code = readFileSync(
        join(project.dir, 'node_modules/@sessionwire/client/dist', file),
        'utf8',
      );
      expect({ file, builtin: NODE_BUILTIN.exec(code)?.[0] }).toEqual({ file, builtin: undefined });
    }
  });

  it('is not served under /sdk/ (nor the playground at /) with PLAYGROUND=off', async () => {
    expect((await fetch(`${app.url}/sdk/index.mjs`)).status).toBe(404);
    expect((await fetch(`${app.url}/`)).status).toBe(404);
  });

  it('runs from an ES module: streams the reply, and errors keep their class names', async () => {
    const out = await runNode('esm.mjs', project.dir, { SESSIONWIRE_URL: app.url });
    expect(JSON.parse(out)).toEqual({
      reply: 'You said: from esm',
      refused: ['OutboxFullError', true],
      networkError: 'NetworkError',
    });
  });

  it('runs from CommonJS: streams the reply, and a refusal is an HttpError with its code', async () => {
    const out = await runNode('cjs.cjs', project.dir, { SESSIONWIRE_URL: app.url });
    expect(JSON.parse(out)).toEqual({
      reply: 'You said: from cjs',
      failed: ['failed', 'HttpError', true, 'session_not_found'],
    });
  });

  it('type-checks as ESM and as CommonJS (nodenext), declarations included', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const compilerOptions = {
      noEmit: true,
      strict: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      lib: ['es2023', 'dom'],
      types: [],
      skipLibCheck: false, // the package's own declarations are checked too
    };
    const tsconfig = { compilerOptions, files: ['types.mts', 'types.cts'] };
    writeFileSync(join(project.dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const args = [tsc, '-p', 'tsconfig.json'];
    const result = await promisify(execFile)(process.execPath, args, { cwd: project.dir }).catch(
      (error: { stdout: string }) => ({ stdout: error.stdout }),
    );
    expect(result.stdout).toBe('');
  });
});
