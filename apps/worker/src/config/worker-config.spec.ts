import { loadWorkerConfig } from './worker-config';

const urls = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

describe('loadWorkerConfig', () => {
  it('applies the protocol defaults', () => {
    const config = loadWorkerConfig(urls);
    expect(config).toMatchObject({
      databaseUrl: urls.DATABASE_URL,
      redis: { kind: 'server', url: urls.REDIS_URL },
      concurrency: 50,
      leaseMs: 10_000,
      idleReleaseMs: 30_000,
      drainMs: 10_000,
      deltaFlushMs: 25,
      pollMs: 1000,
      metricsPort: undefined,
      logLevel: 'info',
      openai: { baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini', apiKey: undefined },
    });
  });

  it('makes a worker id from host, pid and a random part when WORKER_ID is unset or empty', () => {
    const a = loadWorkerConfig({ ...urls, WORKER_ID: '' }).workerId;
    const b = loadWorkerConfig(urls).workerId;
    expect(a).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
    expect(a).not.toBe(b);
    expect(loadWorkerConfig({ ...urls, WORKER_ID: 'w-7' }).workerId).toBe('w-7');
  });

  it('reads every variable', () => {
    const config = loadWorkerConfig({
      ...urls,
      WORKER_CONCURRENCY: '5',
      LEASE_MS: '2000',
      IDLE_RELEASE_MS: '100',
      WORKER_DRAIN_MS: '0',
      WORKER_POLL_MS: '250',
      DELTA_FLUSH_MS: '10',
      METRICS_PORT: '9464',
      OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1/',
      OPENAI_API_KEY: 'k',
      OPENAI_MODEL: 'small',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      concurrency: 5,
      leaseMs: 2000,
      idleReleaseMs: 100,
      drainMs: 0,
      pollMs: 250,
      deltaFlushMs: 10,
      metricsPort: 9464,
      openai: { baseUrl: 'http://127.0.0.1:8080/v1', apiKey: 'k', model: 'small' },
      logLevel: 'debug',
    });
  });

  it.each([
    [{ WORKER_CONCURRENCY: '0' }, 'WORKER_CONCURRENCY'],
    [{ WORKER_CONCURRENCY: 'many' }, 'WORKER_CONCURRENCY'],
    [{ LEASE_MS: '10' }, 'LEASE_MS'],
    [{ DELTA_FLUSH_MS: '-1' }, 'DELTA_FLUSH_MS'],
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT'],
    [{ OPENAI_BASE_URL: 'not a url' }, 'OPENAI_BASE_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: '' }, 'DATABASE_URL'],
    [{ REDIS_URL: '   ' }, 'REDIS_URL'],
    [{ REDIS_CLUSTER_NODES: 'r0:port' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'r0:7000' }, 'REDIS_URL and REDIS_CLUSTER_NODES are both set'],
  ])('refuses %p naming %s', (env, name) => {
    expect(() => loadWorkerConfig({ ...urls, ...env })).toThrow(name);
  });

  it('names the hot statements unless DATABASE_NAMED_STATEMENTS=off', () => {
    expect(loadWorkerConfig(urls).databaseNamedStatements).toBe(true);
    const off = loadWorkerConfig({ ...urls, DATABASE_NAMED_STATEMENTS: 'off' });
    expect(off.databaseNamedStatements).toBe(false);
    expect(() => loadWorkerConfig({ ...urls, DATABASE_NAMED_STATEMENTS: '0' })).toThrow(
      /DATABASE_NAMED_STATEMENTS must be on or off/,
    );
  });

  it('treats empty variables as unset', () => {
    expect(loadWorkerConfig({ ...urls, LEASE_MS: '', METRICS_PORT: '' })).toMatchObject({
      leaseMs: 10_000,
      metricsPort: undefined,
    });
  });

  it('takes REDIS_CLUSTER_NODES instead of REDIS_URL', () => {
    const config = loadWorkerConfig({
      DATABASE_URL: urls.DATABASE_URL,
      REDIS_CLUSTER_NODES: 'r0:7000',
    });
    expect(config.redis).toEqual({ kind: 'cluster', seeds: [{ host: 'r0', port: 7000 }] });
    expect(() =>
      loadWorkerConfig({
        ...urls,
        REDIS_URL: '',
        REDIS_CLUSTER_NODES: 'r0:7000',
        REDIS_PREFIX: '{x}',
      }),
    ).toThrow(/REDIS_PREFIX must not contain/);
  });

  it('does not need the URLs when the caller provides the connections', () => {
    expect(loadWorkerConfig({}, { requireConnections: false }).databaseUrl).toBeUndefined();
  });
});
