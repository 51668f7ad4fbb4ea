import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  CONNECTION_VARIABLES,
  integer,
  onOff,
  logLevel,
  MAX_TIMER_MS,
  port,
  readConnections,
  readEnv,
  url,
  type ConnectionOptions,
  type Connections,
  type Env,
  type LogLevel,
} from '@sessionwire/app-kit';
import { z } from 'zod';

const schema = z.object({
  ...CONNECTION_VARIABLES,
  REDIS_PREFIX: z.string().max(100).optional(),
  WORKER_ID: z.string().min(1).max(200).optional(),
  WORKER_CONCURRENCY: integer(1, 10_000).default(50),
  LEASE_MS: integer(500, MAX_TIMER_MS).default(10_000),
  IDLE_RELEASE_MS: integer(0, MAX_TIMER_MS).default(30_000),
  WORKER_DRAIN_MS: integer(0, MAX_TIMER_MS).default(10_000),
  WORKER_POLL_MS: integer(10, MAX_TIMER_MS).default(1_000),
  DELTA_FLUSH_MS: integer(0, 60_000).default(25),
  APPEND_BATCH_MAX: integer(1, 10_000).default(512),
  APPEND_COMMITS_MAX: integer(1, 1000).default(4),
  DATABASE_POOL_MAX: integer(1, 1000).default(10),
  DATABASE_QUEUE_MAX: integer(1, 1_000_000).default(10_000),
  DATABASE_NAMED_STATEMENTS: onOff().default(true),
  METRICS_PORT: port().optional(),
  OPENAI_BASE_URL: url(['http:', 'https:']).default('https://api.openai.com/v1'),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  LOG_LEVEL: logLevel().default('info'),
});

export interface OpenAiConfig {
  /** Base URL up to and including `/v1`; requests go to `<baseUrl>/chat/completions`. */
  baseUrl: string;
  apiKey?: string;
  model: string;
}

/** What the worker reads from its environment, validated once at start. */
export interface WorkerConfig {
  /** Prepended to every Redis channel; must match the API's `REDIS_PREFIX`. */
  redisPrefix: string;
  workerId: string;
  concurrency: number;
  leaseMs: number;
  idleReleaseMs: number;
  drainMs: number;
  pollMs: number;
  deltaFlushMs: number;
  /** Most appends per commit (group commit); 1 turns batching off. */
  appendBatchMax: number;
  /** Most group commits in flight at once, each on its own connection (a session in one). */
  appendCommitsMax: number;
  /** Postgres connections of the pool. */
  databasePoolMax: number;
  /** Most writes (and requests for a connection) waiting at once; more are refused. */
  databaseQueueMax: number;
  /** Hot statements run as named prepared statements (`DATABASE_NAMED_STATEMENTS`, default on). */
  databaseNamedStatements: boolean;
  metricsPort?: number;
  openai: OpenAiConfig;
  logLevel: LogLevel;
}

/** The configuration of `start:worker`: the worker's, and the connections its `main` opens. */
export type WorkerProcessConfig = WorkerConfig & Connections;

/** DI token of the validated {@link WorkerConfig}. */
export const WORKER_CONFIG = Symbol('WORKER_CONFIG');

/** Postgres `application_name` of worker connections (visible in `pg_stat_activity`). */
export const WORKER_APPLICATION_NAME = 'sessionwire-worker';

/**
 * Validates the worker's environment once at start. An empty variable counts as unset; an invalid
 * one throws a ConfigError whose message names the variable. `DATABASE_URL` and one Redis
 * (`REDIS_URL`, or `REDIS_CLUSTER_NODES` for a Redis Cluster; not both) are required unless
 * `requireConnections` is false (an embedding process provides the connections).
 */
export function loadWorkerConfig(env: Env): WorkerProcessConfig;
export function loadWorkerConfig(
  env: Env,
  options: ConnectionOptions,
): WorkerConfig & Partial<Connections>;
export function loadWorkerConfig(
  env: Env,
  options: ConnectionOptions = {},
): WorkerConfig & Partial<Connections> {
  const v = readEnv(schema, env);
  return {
    ...readConnections(v, options),
    redisPrefix: v.REDIS_PREFIX ?? '',
    workerId: v.WORKER_ID ?? defaultWorkerId(),
    concurrency: v.WORKER_CONCURRENCY,
    leaseMs: v.LEASE_MS,
    idleReleaseMs: v.IDLE_RELEASE_MS,
    drainMs: v.WORKER_DRAIN_MS,
    pollMs: v.WORKER_POLL_MS,
    deltaFlushMs: v.DELTA_FLUSH_MS,
    appendBatchMax: v.APPEND_BATCH_MAX,
    appendCommitsMax: v.APPEND_COMMITS_MAX,
    databasePoolMax: v.DATABASE_POOL_MAX,
    databaseQueueMax: v.DATABASE_QUEUE_MAX,
    databaseNamedStatements: v.DATABASE_NAMED_STATEMENTS,
    metricsPort: v.METRICS_PORT,
    openai: {
      baseUrl: v.OPENAI_BASE_URL.replace(/\/+$/, ''),
      apiKey: v.OPENAI_API_KEY,
      model: v.OPENAI_MODEL,
    },
    logLevel: v.LOG_LEVEL,
  };
}

function defaultWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
