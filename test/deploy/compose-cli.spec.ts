import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';
import { ROOT } from './manifest-helpers';

/**
 * The compose file as Docker Compose itself resolves it (anchors merged, variables interpolated),
 * without a Docker engine: `docker-compose config` from Debian's `docker-compose` package, which CI
 * installs (.ci/system-packages), or the Compose v2 plugin when present.
 */
function composeConfig(env: NodeJS.ProcessEnv = {}): string {
  const run = (command: string, args: string[]) =>
    execFileSync(command, [...args, '-f', 'docker-compose.yml', 'config'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const attempts: [string, string[]][] = [
    ['docker-compose', []],
    ['docker', ['compose']],
  ];
  const failures: string[] = [];
  for (const [command, args] of attempts) {
    try {
      return run(command, args);
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      failures.push(`${[command, ...args].join(' ')}: ${e.stderr || e.message}`);
      // A compose that ran and rejected the file is an answer, not a missing tool.
      if (e.code !== 'ENOENT' && !/unknown command/.test(e.stderr ?? '')) break;
    }
  }
  throw new Error(
    `docker compose could not validate docker-compose.yml (install Debian's docker-compose ` +
      `package or the compose plugin):\n${failures.join('\n')}`,
  );
}

interface Resolved {
  services: Record<
    string,
    {
      environment?: Record<string, string>;
      depends_on?: Record<string, { condition: string }>;
      deploy?: { replicas?: number };
    }
  >;
  volumes?: Record<string, unknown>;
}

describe('docker-compose config', () => {
  it('accepts the file and resolves anchors the way the tests read them', () => {
    const resolved = parse(composeConfig()) as Resolved;
    expect(Object.keys(resolved.services).sort()).toEqual(
      ['api', 'lb', 'migrate', 'postgres', 'redis', 'worker'].sort(),
    );
    expect(resolved.services.api.deploy?.replicas).toBe(2);
    expect(resolved.services.worker.deploy?.replicas).toBe(2);
    expect(resolved.services.worker.depends_on?.migrate.condition).toBe(
      'service_completed_successfully',
    );
    expect(resolved.services.api.environment?.API_KEYS).toBe('dev-key-change-me');
    expect(Object.keys(resolved.volumes ?? {}).length).toBe(2);
  });

  it('takes the API key from SESSIONWIRE_API_KEY', () => {
    const resolved = parse(
      composeConfig({ SESSIONWIRE_API_KEY: 'a-key-from-the-environment' }),
    ) as Resolved;
    expect(resolved.services.api.environment?.API_KEYS).toBe('a-key-from-the-environment');
    expect(resolved.services.migrate.environment?.API_KEYS).toBe('a-key-from-the-environment');
  });
});
