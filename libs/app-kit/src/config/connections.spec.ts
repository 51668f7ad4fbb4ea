import { z } from 'zod';
import { CONNECTION_VARIABLES, describeRedis, readConnections } from './connections';
import { ConfigError, readEnv } from './read-env';

const connections = z.object({ ...CONNECTION_VARIABLES, REDIS_PREFIX: z.string().optional() });
const read = (env: Record<string, string>, requireConnections?: boolean) =>
  readConnections(readEnv(connections, env), { requireConnections });

describe(readConnections.name, () => {
  it('requires the database and one Redis unless told otherwise', () => {
    expect(read({ DATABASE_URL: 'postgresql://h/db', REDIS_URL: 'redis://h:6379' })).toEqual({
      databaseUrl: 'postgresql://h/db',
      redis: { kind: 'server', url: 'redis://h:6379' },
    });
    expect(() => read({ REDIS_URL: 'redis://h' })).toThrow(/DATABASE_URL is required/);
    expect(() => read({ DATABASE_URL: 'postgres://h/db' })).toThrow(
      'invalid configuration: REDIS_URL is required (or REDIS_CLUSTER_NODES for a Redis Cluster)',
    );
    expect(read({}, false)).toEqual({ databaseUrl: undefined, redis: undefined });
  });

  it('takes a Redis Cluster instead of one Redis', () => {
    expect(
      read({ DATABASE_URL: 'postgres://h/db', REDIS_CLUSTER_NODES: 'r0:7000, r1:7001' }),
    ).toEqual({
      databaseUrl: 'postgres://h/db',
      redis: {
        kind: 'cluster',
        seeds: [
          { host: 'r0', port: 7000 },
          { host: 'r1', port: 7001 },
        ],
      },
    });
    expect(read({ REDIS_CLUSTER_NODES: 'r0:7000' }, false).redis?.kind).toBe('cluster');
  });

  it('refuses both kinds of Redis at once, naming both, even when none is required', () => {
    const both = { REDIS_URL: 'redis://h', REDIS_CLUSTER_NODES: 'r0:7000' };
    expect(() => read(both, false)).toThrow(
      'invalid configuration: REDIS_URL and REDIS_CLUSTER_NODES are both set; set one of them',
    );
  });

  it('refuses a hash tag in REDIS_PREFIX with a cluster only', () => {
    const prefix = { DATABASE_URL: 'postgres://h/db', REDIS_PREFIX: 'a{b}:' };
    expect(() => read({ ...prefix, REDIS_CLUSTER_NODES: 'r0:7000' })).toThrow(ConfigError);
    expect(() => read({ ...prefix, REDIS_CLUSTER_NODES: 'r0:7000' })).toThrow(/REDIS_PREFIX/);
    expect(read({ ...prefix, REDIS_URL: 'redis://h' }).redis?.kind).toBe('server');
  });

  it('refuses a database or Redis URL of another protocol, and bad cluster seeds', () => {
    expect(() => readEnv(connections, { DATABASE_URL: 'mysql://h/db' })).toThrow(
      'invalid configuration: DATABASE_URL must be a URL (postgres: or postgresql:)',
    );
    expect(() => readEnv(connections, { REDIS_URL: 'http://h' })).toThrow(/REDIS_URL/);
    expect(() => readEnv(connections, { REDIS_CLUSTER_NODES: 'r0:port' })).toThrow(
      'invalid configuration: REDIS_CLUSTER_NODES must be host:port,host:port,… (bad entry "r0:port")',
    );
  });
});

describe(describeRedis.name, () => {
  it('names the host of one Redis or the seeds of a cluster', () => {
    expect(describeRedis({ kind: 'server', url: 'rediss://u:p@cache:6380' })).toBe('cache:6380');
    expect(
      describeRedis({
        kind: 'cluster',
        seeds: [
          { host: 'r0', port: 7000, password: 'p' },
          { host: '::1', port: 7001 },
        ],
      }),
    ).toBe('r0:7000,[::1]:7001');
  });
});
