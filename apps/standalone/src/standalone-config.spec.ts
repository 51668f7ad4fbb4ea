import { describeMode, loadStandaloneConfig } from './standalone-config';

const PG = 'postgres://postgres@db.internal:5432/sw';
const REDIS = 'redis://cache.internal:6379';

describe(loadStandaloneConfig.name, () => {
  it('uses the embedded database and the in-process bus when nothing is set', () => {
    const config = loadStandaloneConfig({});
    expect(config.mode).toEqual({ database: 'pglite', dataDir: './.data', broker: 'memory' });
    expect(describeMode(config.mode)).toBe('embedded Postgres (PGlite) in ./.data, in-process bus');
  });

  it('treats empty variables as unset', () => {
    expect(loadStandaloneConfig({ DATABASE_URL: '', REDIS_URL: '' }).mode.database).toBe('pglite');
  });

  it('uses Postgres with the in-process bus when only DATABASE_URL is set', () => {
    const { mode } = loadStandaloneConfig({ DATABASE_URL: PG });
    expect(mode).toEqual({ database: 'postgres', url: PG, broker: 'memory' });
    expect(describeMode(mode)).toBe('Postgres at db.internal:5432, in-process bus');
  });

  it('uses Postgres and Redis when both are set', () => {
    const { mode } = loadStandaloneConfig({ DATABASE_URL: PG, REDIS_URL: REDIS });
    expect(mode).toEqual({
      database: 'postgres',
      url: PG,
      broker: 'redis',
      redis: { kind: 'server', url: REDIS },
    });
    expect(describeMode(mode)).toBe('Postgres at db.internal:5432, Redis at cache.internal:6379');
  });

  it('uses Postgres and a Redis Cluster with REDIS_CLUSTER_NODES', () => {
    const { mode } = loadStandaloneConfig({
      DATABASE_URL: PG,
      REDIS_CLUSTER_NODES: 'r0:7000,r1:7001',
    });
    expect(mode).toEqual({
      database: 'postgres',
      url: PG,
      broker: 'redis',
      redis: {
        kind: 'cluster',
        seeds: [
          { host: 'r0', port: 7000 },
          { host: 'r1', port: 7001 },
        ],
      },
    });
    expect(describeMode(mode)).toBe(
      'Postgres at db.internal:5432, Redis Cluster at r0:7000,r1:7001',
    );
    expect(() => loadStandaloneConfig({ REDIS_CLUSTER_NODES: 'r0:7000' })).toThrow(
      /REDIS_CLUSTER_NODES is set without DATABASE_URL/,
    );
  });

  it('refuses REDIS_URL without DATABASE_URL, naming both variables', () => {
    expect(() => loadStandaloneConfig({ REDIS_URL: REDIS })).toThrow(
      /REDIS_URL is set without DATABASE_URL/,
    );
  });

  it('passes the API and worker settings through their own validation', () => {
    const config = loadStandaloneConfig({ PORT: '4123', WORKER_CONCURRENCY: '3' });
    expect(config.api.port).toBe(4123);
    expect(config.worker.concurrency).toBe(3);
    expect(() => loadStandaloneConfig({ DRAIN_MS: 'soon' })).toThrow(/DRAIN_MS/);
    expect(() => loadStandaloneConfig({ LEASE_MS: '1' })).toThrow(/LEASE_MS/);
  });
});
