import { AGENTS } from '@sessionwire/agents';
import { loadApiConfig, loadMigrateConfig, loadRetentionConfig } from './api-config';

const base = { DATABASE_URL: 'postgres://u@h:5432/db', REDIS_URL: 'redis://h:6379' };

describe(loadApiConfig.name, () => {
  it('applies the protocol defaults', () => {
    expect(loadApiConfig(base)).toMatchObject({
      port: 3000,
      maxReplayGap: 200,
      syncIntervalMs: 5000,
      heartbeatMs: 15000,
      streamMaxBufferBytes: 1048576,
      drainMs: 10000,
      maxMessageBytes: 65536,
      apiKeys: [],
      authSecret: undefined,
      logLevel: 'info',
      redisPrefix: '',
      agents: ['demo', 'openai'],
    });
  });

  it('reads every variable', () => {
    const config = loadApiConfig({
      ...base,
      PORT: '8080',
      MAX_REPLAY_GAP: '50',
      SYNC_INTERVAL_MS: '250',
      HEARTBEAT_MS: '1000',
      STREAM_MAX_BUFFER_BYTES: '65536',
      DRAIN_MS: '500',
      MAX_MESSAGE_BYTES: '1024',
      API_KEYS: ' key-aaaaaaaaaaaaaaaa , key-bbbbbbbbbbbbbbbb,',
      AUTH_SECRET: 's'.repeat(32),
      LOG_LEVEL: 'debug',
      REDIS_PREFIX: 'stage:',
    });
    expect(config).toMatchObject({
      port: 8080,
      maxReplayGap: 50,
      syncIntervalMs: 250,
      heartbeatMs: 1000,
      streamMaxBufferBytes: 65536,
      drainMs: 500,
      maxMessageBytes: 1024,
      apiKeys: ['key-aaaaaaaaaaaaaaaa', 'key-bbbbbbbbbbbbbbbb'],
      authSecret: 's'.repeat(32),
      logLevel: 'debug',
      redisPrefix: 'stage:',
    });
  });

  it('serves the playground unless NODE_ENV=production, and PLAYGROUND decides when set', () => {
    const key = { API_KEYS: 'key-aaaaaaaaaaaaaaaa' };
    expect(loadApiConfig(base).playground).toBe(true);
    expect(loadApiConfig({ ...base, ...key, NODE_ENV: 'production' }).playground).toBe(false);
    expect(
      loadApiConfig({ ...base, ...key, NODE_ENV: 'production', PLAYGROUND: 'on' }).playground,
    ).toBe(true);
    expect(loadApiConfig({ ...base, PLAYGROUND: 'off' }).playground).toBe(false);
    expect(() => loadApiConfig({ ...base, PLAYGROUND: 'yes' })).toThrow(/PLAYGROUND/);
  });

  it('names the hot statements unless DATABASE_NAMED_STATEMENTS=off', () => {
    expect(loadApiConfig(base).databaseNamedStatements).toBe(true);
    expect(
      loadApiConfig({ ...base, DATABASE_NAMED_STATEMENTS: 'off' }).databaseNamedStatements,
    ).toBe(false);
    expect(() => loadApiConfig({ ...base, DATABASE_NAMED_STATEMENTS: 'false' })).toThrow(
      /DATABASE_NAMED_STATEMENTS must be on or off/,
    );
  });

  it('treats an empty variable as unset', () => {
    const config = loadApiConfig({ ...base, PORT: '', API_KEYS: '', AUTH_SECRET: '  ' });
    expect(config.port).toBe(3000);
    expect(config.apiKeys).toEqual([]);
    expect(config.authSecret).toBeUndefined();
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['MAX_REPLAY_GAP', '-1'],
    ['SYNC_INTERVAL_MS', '1.5'],
    ['HEARTBEAT_MS', '0'],
    ['STREAM_MAX_BUFFER_BYTES', '1e6'],
    ['DRAIN_MS', 'ten'],
    ['MAX_MESSAGE_BYTES', '0'],
    ['DATABASE_URL', 'mysql://h/db'],
    ['REDIS_URL', 'not a url'],
    ['AUTH_SECRET', 'short'],
    ['API_KEYS', 'tiny'],
    ['LOG_LEVEL', 'loud'],
    ['CORS_ORIGINS', 'https://app.example.com/path'],
    ['REDIS_CLUSTER_NODES', 'redis-0:6379,redis-1'],
  ])('names %s when it is invalid (%p)', (name, value) => {
    expect(() => loadApiConfig({ ...base, [name]: value })).toThrow(new RegExp(`\\b${name}\\b`));
  });

  it('requires DATABASE_URL and REDIS_URL unless told otherwise', () => {
    expect(() => loadApiConfig({ REDIS_URL: base.REDIS_URL })).toThrow(/DATABASE_URL/);
    expect(() => loadApiConfig({ DATABASE_URL: base.DATABASE_URL })).toThrow(/REDIS_URL/);
    expect(loadApiConfig({}, { requireConnections: false }).databaseUrl).toBeUndefined();
  });

  it('takes a Redis Cluster instead of REDIS_URL, and refuses both, naming both', () => {
    const cluster = { DATABASE_URL: base.DATABASE_URL, REDIS_CLUSTER_NODES: 'r0:7000, r1:7001' };
    expect(loadApiConfig(base).redis).toEqual({ kind: 'server', url: base.REDIS_URL });
    expect(loadApiConfig(cluster).redis).toEqual({
      kind: 'cluster',
      seeds: [
        { host: 'r0', port: 7000 },
        { host: 'r1', port: 7001 },
      ],
    });
    expect(() => loadApiConfig({ ...base, REDIS_CLUSTER_NODES: 'r0:7000' })).toThrow(
      /REDIS_URL and REDIS_CLUSTER_NODES are both set/,
    );
    expect(() => loadApiConfig({ ...cluster, REDIS_PREFIX: 'a{b}:' })).toThrow(/REDIS_PREFIX/);
  });

  it('accepts exactly the agents of libs/agents', () => {
    expect(loadApiConfig(base).agents).toEqual(Object.keys(AGENTS));
  });

  it('refuses production without API_KEYS or AUTH_SECRET', () => {
    expect(() => loadApiConfig({ ...base, NODE_ENV: 'production' })).toThrow(
      /API_KEYS or AUTH_SECRET/,
    );
    expect(() => loadApiConfig({ ...base, NODE_ENV: 'production', API_KEYS: '' })).toThrow();
    expect(
      loadApiConfig({ ...base, NODE_ENV: 'production', AUTH_SECRET: 'x'.repeat(32) }).production,
    ).toBe(true);
  });

  it('measures AUTH_SECRET in bytes', () => {
    expect(loadApiConfig({ ...base, AUTH_SECRET: 'é'.repeat(16) }).authSecret).toHaveLength(16);
    expect(() => loadApiConfig({ ...base, AUTH_SECRET: 'é'.repeat(15) })).toThrow(/AUTH_SECRET/);
  });
});

describe(loadRetentionConfig.name, () => {
  const db = { DATABASE_URL: base.DATABASE_URL };

  it('reads DATABASE_URL, EVENT_RETENTION_DAYS (unset: keep everything) and LOG_LEVEL', () => {
    expect(loadRetentionConfig(db)).toEqual({
      databaseUrl: base.DATABASE_URL,
      logLevel: 'info',
      eventRetentionDays: undefined,
    });
    expect(
      loadRetentionConfig({ ...db, EVENT_RETENTION_DAYS: '30', LOG_LEVEL: 'warn' }),
    ).toMatchObject({ eventRetentionDays: 30, logLevel: 'warn' });
  });

  it('needs nothing the API needs to serve: no Redis, no API keys under NODE_ENV=production', () => {
    expect(loadRetentionConfig({ ...db, NODE_ENV: 'production' }).databaseUrl).toBe(
      base.DATABASE_URL,
    );
    expect(() => loadApiConfig({ ...base, NODE_ENV: 'production' })).toThrow(/API_KEYS/);
  });

  it.each([
    [{}, 'invalid configuration: DATABASE_URL is required'],
    [{ ...db, EVENT_RETENTION_DAYS: '0' }, 'EVENT_RETENTION_DAYS must be an integer from 1'],
    [{ ...db, EVENT_RETENTION_DAYS: '7d' }, 'EVENT_RETENTION_DAYS'],
    [{ ...db, LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('refuses %p naming the variable', (env, message) => {
    expect(() => loadRetentionConfig(env)).toThrow(message);
  });

  it('reads EVENT_RETENTION_DAYS for retention only', () => {
    expect(loadApiConfig({ ...base, EVENT_RETENTION_DAYS: '0' })).not.toHaveProperty(
      'eventRetentionDays',
    );
    expect(loadMigrateConfig({ ...db, EVENT_RETENTION_DAYS: '0' })).not.toHaveProperty(
      'eventRetentionDays',
    );
  });
});
