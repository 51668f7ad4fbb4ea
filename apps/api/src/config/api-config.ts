import { AGENT_NAMES } from '@sessionwire/agents';
import {
  CONNECTION_VARIABLES,
  ConfigError,
  integer,
  onOff,
  list,
  logLevel,
  port,
  readConnections,
  readEnv,
  required,
  type ConnectionOptions,
  type Connections,
  type Env,
  type LogLevel,
} from '@sessionwire/app-kit';
import { z } from 'zod';

/** What the API app reads from its environment, validated once at start. */
export interface ApiConfig {
  port: number;
  /** Prepended to every Redis channel (several deployments or tests sharing one Redis). */
  redisPrefix: string;
  maxReplayGap: number;
  syncIntervalMs: number;
  heartbeatMs: number;
  streamMaxBufferBytes: number;
  drainMs: number;
  maxMessageBytes: number;
  apiKeys: string[];
  authSecret?: string;
  logLevel: LogLevel;
  production: boolean;
  /** Agents a session may name (the shipped ones, `AGENTS` in libs/agents). */
  agents: readonly string[];
  /** Origins allowed by CORS (`*` for any); empty: no CORS headers (same-origin pages only). */
  corsOrigins: string[];
  /** Serve the playground page at `/` and the SDK bundle at `/sdk/` (PLAYGROUND). */
  playground: boolean;
  /** Most writes per commit (group commit); 1 turns batching off. */
  appendBatchMax: number;
  /** Most group commits in flight at once, each on its own connection (a session in one). */
  appendCommitsMax: number;
  /** Postgres connections of the pool. */
  databasePoolMax: number;
  /** Most writes (and requests for a connection) waiting at once; more are refused with 503. */
  databaseQueueMax: number;
  /** Hot statements run as named prepared statements (`DATABASE_NAMED_STATEMENTS`, default on). */
  databaseNamedStatements: boolean;
  /** Abuse limits (docs/protocol.md §8.15); a refused request gets 429 `rate_limited`. */
  limits: LimitsConfig;
  /** Node's HTTP server timeouts for receiving a request (slow or silent clients get 408). */
  http: HttpTimeouts;
}

export interface LimitsConfig {
  /** Streams of one session open at once on one node. */
  maxStreamsPerSession: number;
  /** Streams of one credential (API key, session token, or everyone with auth off) on one node. */
  maxStreamsPerCredential: number;
  /** Messages posted to one session in a minute, counted across nodes in Redis. */
  maxMessagesPerSessionPerMinute: number;
}

export interface HttpTimeouts {
  /** From a request's first byte to the end of its headers. */
  headersTimeoutMs: number;
  /** From a request's first byte to the end of its body (never cuts a response, so no stream). */
  requestTimeoutMs: number;
}

/** The configuration of `start:api`: the app's, and the connections its `main` opens. */
export type ApiProcessConfig = ApiConfig & Connections;

/** The configuration of `main.js migrate`: only the database. */
export interface MigrateConfig {
  databaseUrl: string;
  logLevel: LogLevel;
}

/** The configuration of `main.js retention`: the database and how long events are kept. */
export interface RetentionConfig extends MigrateConfig {
  /** Events older than this many days are removed; undefined keeps everything. */
  eventRetentionDays?: number;
}

const schema = z.object({
  PORT: port().default(3000),
  ...CONNECTION_VARIABLES,
  REDIS_PREFIX: z.string().max(100).default(''),
  MAX_REPLAY_GAP: integer(1, 1_000_000).default(200),
  SYNC_INTERVAL_MS: integer(10, 3_600_000).default(5000),
  HEARTBEAT_MS: integer(10, 3_600_000).default(15000),
  STREAM_MAX_BUFFER_BYTES: integer(1024, 1024 ** 3).default(1048576),
  DRAIN_MS: integer(0, 600_000).default(10000),
  MAX_MESSAGE_BYTES: integer(1, 16 * 1024 * 1024).default(65536),
  APPEND_BATCH_MAX: integer(1, 10_000).default(512),
  APPEND_COMMITS_MAX: integer(1, 1000).default(4),
  DATABASE_POOL_MAX: integer(1, 1000).default(10),
  DATABASE_QUEUE_MAX: integer(1, 1_000_000).default(10_000),
  DATABASE_NAMED_STATEMENTS: onOff().default(true),
  MAX_STREAMS_PER_SESSION: integer(1, 1_000_000).default(100),
  MAX_STREAMS_PER_CREDENTIAL: integer(1, 10_000_000).default(20_000),
  MAX_MESSAGES_PER_SESSION_PER_MINUTE: integer(1, 1_000_000).default(120),
  HTTP_HEADERS_TIMEOUT_MS: integer(100, 600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: integer(100, 3_600_000).default(30_000),
  API_KEYS: list(z.string().min(16, 'every key must have at least 16 characters')).optional(),
  AUTH_SECRET: z
    .string()
    .refine((value) => Buffer.byteLength(value, 'utf8') >= 32, 'must be at least 32 bytes')
    .optional(),
  LOG_LEVEL: logLevel().default('info'),
  CORS_ORIGINS: list(
    z
      .string()
      .refine(
        (origin) => origin === '*' || /^https?:\/\/[^/\s]+$/.test(origin),
        'must be * or origins like https://app.example.com (scheme and host, no path)',
      ),
  ).optional(),
  NODE_ENV: z.string().optional(),
  PLAYGROUND: z.enum(['on', 'off']).optional(),
});

const migrateSchema = z.object({
  DATABASE_URL: CONNECTION_VARIABLES.DATABASE_URL,
  LOG_LEVEL: logLevel().default('info'),
});

const retentionSchema = migrateSchema.extend({
  EVENT_RETENTION_DAYS: integer(1, 100_000).optional(),
});

/**
 * Reads the API's configuration (PROTOCOL §7). An empty variable counts as unset. Throws a
 * ConfigError naming the offending variable. `DATABASE_URL` and one Redis (`REDIS_URL`, or
 * `REDIS_CLUSTER_NODES` for a Redis Cluster; not both) are required unless `requireConnections`
 * is false (the standalone app, which opens its own).
 */
export function loadApiConfig(env: Env): ApiProcessConfig;
export function loadApiConfig(
  env: Env,
  options: ConnectionOptions,
): ApiConfig & Partial<Connections>;
export function loadApiConfig(
  env: Env,
  options: ConnectionOptions = {},
): ApiConfig & Partial<Connections> {
  const c = readEnv(schema, env);
  const connections = readConnections(c, options);
  const apiKeys = c.API_KEYS ?? [];
  const production = c.NODE_ENV === 'production';
  if (c.HTTP_REQUEST_TIMEOUT_MS < c.HTTP_HEADERS_TIMEOUT_MS) {
    throw new ConfigError('HTTP_REQUEST_TIMEOUT_MS', 'must be at least HTTP_HEADERS_TIMEOUT_MS');
  }
  if (production && apiKeys.length === 0 && !c.AUTH_SECRET) {
    throw new ConfigError('API_KEYS or AUTH_SECRET', 'is required when NODE_ENV=production');
  }
  return {
    port: c.PORT,
    ...connections,
    redisPrefix: c.REDIS_PREFIX,
    maxReplayGap: c.MAX_REPLAY_GAP,
    syncIntervalMs: c.SYNC_INTERVAL_MS,
    heartbeatMs: c.HEARTBEAT_MS,
    streamMaxBufferBytes: c.STREAM_MAX_BUFFER_BYTES,
    drainMs: c.DRAIN_MS,
    maxMessageBytes: c.MAX_MESSAGE_BYTES,
    apiKeys,
    authSecret: c.AUTH_SECRET,
    logLevel: c.LOG_LEVEL,
    production,
    agents: AGENT_NAMES,
    corsOrigins: c.CORS_ORIGINS ?? [],
    playground: c.PLAYGROUND ? c.PLAYGROUND === 'on' : !production,
    appendBatchMax: c.APPEND_BATCH_MAX,
    appendCommitsMax: c.APPEND_COMMITS_MAX,
    databasePoolMax: c.DATABASE_POOL_MAX,
    databaseQueueMax: c.DATABASE_QUEUE_MAX,
    databaseNamedStatements: c.DATABASE_NAMED_STATEMENTS,
    limits: {
      maxStreamsPerSession: c.MAX_STREAMS_PER_SESSION,
      maxStreamsPerCredential: c.MAX_STREAMS_PER_CREDENTIAL,
      maxMessagesPerSessionPerMinute: c.MAX_MESSAGES_PER_SESSION_PER_MINUTE,
    },
    http: {
      headersTimeoutMs: c.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: c.HTTP_REQUEST_TIMEOUT_MS,
    },
  };
}

/** Reads what `main.js migrate` needs: `DATABASE_URL` (required) and `LOG_LEVEL`. */
export function loadMigrateConfig(env: Env): MigrateConfig {
  const c = readEnv(migrateSchema, env);
  return { databaseUrl: required('DATABASE_URL', c.DATABASE_URL), logLevel: c.LOG_LEVEL };
}

/**
 * Reads what `main.js retention` needs: `DATABASE_URL` (required), `EVENT_RETENTION_DAYS` (unset:
 * nothing is dropped) and `LOG_LEVEL`. Nothing else: a CronJob that shares the API's ConfigMap
 * but not its secrets (API keys under `NODE_ENV=production`) still runs.
 */
export function loadRetentionConfig(env: Env): RetentionConfig {
  const c = readEnv(retentionSchema, env);
  return {
    databaseUrl: required('DATABASE_URL', c.DATABASE_URL),
    logLevel: c.LOG_LEVEL,
    eventRetentionDays: c.EVENT_RETENTION_DAYS,
  };
}

/** True when neither API keys nor a token secret are configured: every request is allowed. */
export function authDisabled(config: ApiConfig): boolean {
  return config.apiKeys.length === 0 && !config.authSecret;
}
