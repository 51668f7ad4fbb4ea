import { KEEP_ALIVE_TIMEOUT_MS } from '../../apps/api/src/common/http-server';
import {
  API_VARIABLES,
  durationMs,
  nginxDirective,
  nginxParams,
  readRepoFile,
  readYaml,
  WORKER_VARIABLES,
} from './manifest-helpers';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
  stop_grace_period?: string;
  restart?: string;
}

const compose = readYaml('docker-compose.yml') as { services: Record<string, ComposeService> };
const services = compose.services;
const nginx = readRepoFile('deploy/nginx/nginx.conf');
const dockerfile = readRepoFile('Dockerfile');

describe('docker-compose.yml', () => {
  it('has postgres 15 and redis with health checks and volumes', () => {
    expect(services.postgres.image).toBe('postgres:15');
    expect(services.redis.image).toMatch(/^redis:/);
    for (const name of ['postgres', 'redis']) {
      expect(services[name].healthcheck?.test.length).toBeGreaterThan(0);
      expect(services[name].volumes?.length).toBeGreaterThan(0);
    }
  });

  it('migrates once, after postgres is healthy, with the app image', () => {
    const migrate = services.migrate;
    expect(migrate.command).toEqual(['node', 'dist/apps/api/main.js', 'migrate']);
    expect(migrate.restart).toBe('no');
    expect(migrate.image).toBe(services.api.image);
    expect(migrate.depends_on?.postgres.condition).toBe('service_healthy');
  });

  it.each(['api', 'worker'])('runs 2 %s replicas only after a successful migration', (name) => {
    const service = services[name];
    expect(service.deploy?.replicas).toBe(2);
    expect(service.depends_on?.migrate.condition).toBe('service_completed_successfully');
    expect(service.depends_on?.postgres.condition).toBe('service_healthy');
    expect(service.depends_on?.redis.condition).toBe('service_healthy');
    expect(service.environment?.DATABASE_URL).toMatch(/^postgres:\/\/.+@postgres:5432\//);
    expect(service.environment?.REDIS_URL).toBe('redis://redis:6379');
  });

  it('gives api and worker longer to stop than their drain', () => {
    const api = services.api;
    const worker = services.worker;
    expect(durationMs(api.stop_grace_period!)).toBeGreaterThan(Number(api.environment!.DRAIN_MS));
    expect(durationMs(worker.stop_grace_period!)).toBeGreaterThan(
      Number(worker.environment!.WORKER_DRAIN_MS),
    );
  });

  it('checks api readiness on /readyz and puts nginx in front once it is healthy', () => {
    expect(services.api.healthcheck?.test.join(' ')).toContain('/readyz');
    expect(services.api.ports).toBeUndefined();
    const lb = services.lb;
    expect(lb.image).toMatch(/^nginx:/);
    expect(lb.volumes).toContain('./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(lb.depends_on?.api.condition).toBe('service_healthy');
    const published = lb.ports![0].split(':').at(-1);
    expect(nginxDirective(nginx, 'listen')).toBe(published);
  });

  it('sets production mode with an API key long enough for the API config', () => {
    for (const name of ['api', 'worker', 'migrate']) {
      expect(services[name].environment?.NODE_ENV).toBe('production');
    }
    const key = /:-([^}]*)\}/.exec(services.api.environment!.API_KEYS)?.[1] ?? '';
    expect(key.length).toBeGreaterThanOrEqual(16);
  });
});

describe('deploy/nginx/nginx.conf', () => {
  it('passes SSE through unbuffered over HTTP/1.1 keep-alive', () => {
    expect(nginxDirective(nginx, 'proxy_buffering')).toBe('off');
    expect(nginxDirective(nginx, 'proxy_cache')).toBe('off');
    expect(nginxDirective(nginx, 'gzip')).toBe('off');
    expect(nginxDirective(nginx, 'proxy_http_version')).toBe('1.1');
    expect(nginxDirective(nginx, 'proxy_set_header Connection')).toBe('""');
    expect(Number(nginxDirective(nginx, 'keepalive'))).toBeGreaterThan(0);
  });

  it('keeps idle streams open far longer than a heartbeat', () => {
    expect(durationMs(nginxDirective(nginx, 'proxy_read_timeout')!)).toBeGreaterThanOrEqual(
      3_600_000,
    );
    expect(durationMs(nginxDirective(nginx, 'proxy_send_timeout')!)).toBeGreaterThanOrEqual(
      3_600_000,
    );
  });

  it('balances across every api replica, re-resolved within a second', () => {
    const server = nginxParams(nginxDirective(nginx, 'server')!);
    expect(server.words).toEqual(['api:3000', 'resolve']);
    expect(nginxDirective(nginx, 'proxy_pass')).toBe('http://sessionwire_api');
    expect(nginx).toMatch(/upstream sessionwire_api \{/);
    const resolver = nginxParams(nginxDirective(nginx, 'resolver')!);
    expect(durationMs(resolver.params.valid)).toBeLessThanOrEqual(1000);
  });

  // A browser's EventSource stops for good on any non-200 answer: a stream request refused by a
  // draining (503) or restarting node (refused, reset, 502) must reach another node instead.
  it('passes a request a node refused on to the next node, and never resends a POST', () => {
    const next = nginxParams(nginxDirective(nginx, 'proxy_next_upstream')!).words;
    expect(next).toEqual(
      expect.arrayContaining(['error', 'timeout', 'http_502', 'http_503', 'http_504']),
    );
    expect(next).not.toContain('non_idempotent');
    expect(next).not.toContain('off');
    const tries = nginxDirective(nginx, 'proxy_next_upstream_tries');
    expect(tries === undefined || Number(tries) === 0 || Number(tries) >= 2).toBe(true);
  });

  it('never skips a replica that failed for more than about a second', () => {
    const { params } = nginxParams(nginxDirective(nginx, 'server')!);
    const maxFails = Number(params.max_fails ?? 1);
    const failTimeoutMs = durationMs(params.fail_timeout ?? '10s');
    expect(maxFails === 0 || failTimeoutMs <= 1000).toBe(true);
  });

  it('closes idle upstream connections before the API would', () => {
    const idle = durationMs(nginxDirective(nginx, 'keepalive_timeout') ?? '60s');
    expect(idle).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS);
  });
});

describe('Dockerfile', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;

  it('builds in one node:24 stage and runs production dependencies only in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^node:24/);
    expect(stages[0]).toMatch(/RUN npm ci/);
    expect(stages[0]).toMatch(/RUN npm run build/);
    expect(runtime).toMatch(/RUN npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    expect(runtime).toMatch(/COPY libs\/events\/migrations \.\/libs\/events\/migrations/);
  });

  it('copies every file that npm run build reads into the build stage', () => {
    const ignored = readRepoFile('.dockerignore').split('\n');
    for (const path of [
      'rspack.config.js',
      'scripts/node-version-check.js',
      'scripts/build-playground.mjs',
      'packages/client',
    ]) {
      expect({ path, copied: stages[0].includes(path) }).toEqual({ path, copied: true });
      const top = path.split('/')[0];
      expect({ path, ignored: ignored.includes(path) || ignored.includes(top) }).toEqual({
        path,
        ignored: false,
      });
    }
  });

  it('runs as a non-root user', () => {
    const user = /^USER (\S+)/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('keeps dependencies and local state out of the build context', () => {
    const ignored = readRepoFile('.dockerignore').split('\n');
    for (const entry of ['node_modules', 'dist', '.data', '.git', '.env']) {
      expect(ignored).toContain(entry);
    }
  });
});

describe('compose environment', () => {
  it('sets only variables the api and worker configs read', () => {
    for (const [name, known] of [
      ['api', API_VARIABLES],
      ['migrate', API_VARIABLES],
      ['worker', WORKER_VARIABLES],
    ] as const) {
      const unknown = Object.keys(services[name].environment ?? {}).filter(
        (v) => v !== 'NODE_ENV' && !known.has(v),
      );
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });
});
