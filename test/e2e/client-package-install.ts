import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(__dirname, '..', '..');
export const PACKAGE_DIR = join(ROOT, 'packages/client');
const run = promisify(execFile);

/** The environment of a child that must use this Node (npm's `#!/usr/bin/env node` included). */
export function nodeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
  for (const name of Object.keys(env)) if (name.startsWith('npm_')) delete env[name];
  return env;
}

export async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: nodeEnv(),
    timeout: 120_000,
  });
  return stdout;
}

/** `npm pack` of packages/client into `dest`; resolves with the tarball's path. */
export async function packClient(dest: string): Promise<string> {
  if (!existsSync(join(PACKAGE_DIR, 'dist/index.mjs'))) {
    throw new Error('packages/client/dist is missing: run npm run build (or npm run build:client)');
  }
  const out = await npm(['pack', '--json', '--pack-destination', dest], PACKAGE_DIR);
  const [{ filename }] = JSON.parse(out) as { filename: string }[];
  return join(dest, filename);
}

/**
 * An empty project, as a user would start one, with the packed SDK installed by a plain
 * `npm install <tarball>`. Resolves with the project's directory and the tarball.
 */
export async function projectWithClient(): Promise<{ dir: string; tarball: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionwire-sdk-user-'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'sdk-user', version: '1.0.0', private: true }, null, 2),
  );
  const tarball = await packClient(dir);
  await npm(['install', tarball], dir);
  return { dir, tarball };
}

/** Runs `node <file>` in `cwd` with this Node; resolves with stdout, rejects with the output. */
export async function runNode(
  file: string,
  cwd: string,
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [file], {
      cwd,
      env: nodeEnv(env),
      timeout: timeoutMs,
    });
    return stdout;
  } catch (error) {
    const e = error as { message: string; stdout?: string; stderr?: string };
    throw new Error(`${file} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, {
      cause: error,
    });
  }
}
