import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseClusterSeeds, type ClusterSeed } from '@sessionwire/transport/server/cluster-seeds';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);

const schema = z.object({
  DATABASE_URL: z.url().optional(),
  REDIS_URL: z.url().optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((value, ctx) => {
      try {
        return parseClusterSeeds(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  REDIS_PREFIX: z.string().max(100).optional(),
  WORKER_ID: z.string().min(1).max(200).optional(),
  WORKER_CONCURRENCY: int(1, 10_000).default(50),
  LEASE_MS: int(500).default(10_000),
  IDLE_RELEASE_MS: int(0).default(30_000),
  WORKER_DRAIN_MS: int(0).default(10_000),
  WORKER_POLL_MS: int(10).default(1_000),
  DELTA_FLUSH_MS: int(0, 60_000).default(25),
  METRICS_PORT: int(0, 65_535).optional(),
  OPENAI_BASE_URL: z.url().default('https://api.openai.com/v1'),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface OpenAiConfig {
  /** Base URL up to and including `/v1`; requests go to `<baseUrl>/chat/completions`. */
  baseUrl: string;
  apiKey?: string;
  model: string;
}

export interface WorkerConfig {
  databaseUrl?: string;
  redisUrl?: string;
  /** Redis Cluster seeds (`REDIS_CLUSTER_NODES`), used instead of `redisUrl`. */
  redisClusterNodes?: ClusterSeed[];
  /** Prepended to every Redis channel; must match the API's `REDIS_PREFIX`. */
  redisPrefix: string;
  workerId: string;
  concurrency: number;
  leaseMs: number;
  idleReleaseMs: number;
  drainMs: number;
  pollMs: number;
  deltaFlushMs: number;
  metricsPort?: number;
  openai: OpenAiConfig;
  logLevel: LogLevel;
}

export interface LoadWorkerConfigOptions {
  /**
   * Require `DATABASE_URL` and `REDIS_URL` (default true: a separate worker process needs both).
   * An embedding process that hands the worker its own database and broker passes false.
   */
  requireUrls?: boolean;
}

/** DI token of the validated {@link WorkerConfig}. */
export const WORKER_CONFIG = Symbol('WORKER_CONFIG');

/** Postgres `application_name` of worker connections (visible in `pg_stat_activity`). */
export const WORKER_APPLICATION_NAME = 'sessionwire-worker';

/**
 * Validates the worker's environment once at start. An empty variable counts as unset; an invalid
 * one throws an Error whose message names the variable.
 */
export function loadWorkerConfig(
  env: NodeJS.ProcessEnv,
  options: LoadWorkerConfigOptions = {},
): WorkerConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key]?.trim();
    if (value) input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? 'environment');
    throw new Error(`Invalid worker configuration: ${name}: ${issue.message}`);
  }
  const v = parsed.data;
  if (v.REDIS_URL && v.REDIS_CLUSTER_NODES) {
    throw new Error(
      'Invalid worker configuration: REDIS_URL and REDIS_CLUSTER_NODES are both set; set one',
    );
  }
  if (v.REDIS_CLUSTER_NODES && /[{}]/.test(v.REDIS_PREFIX ?? '')) {
    throw new Error(
      'Invalid worker configuration: REDIS_PREFIX must not contain { or } with a Redis Cluster',
    );
  }
  if (options.requireUrls ?? true) {
    for (const [name, value] of [
      ['DATABASE_URL', v.DATABASE_URL],
      ['REDIS_URL (or REDIS_CLUSTER_NODES)', v.REDIS_URL ?? v.REDIS_CLUSTER_NODES],
    ] as const) {
      if (!value) throw new Error(`Invalid worker configuration: ${name} is required`);
    }
  }
  return {
    databaseUrl: v.DATABASE_URL,
    redisUrl: v.REDIS_URL,
    redisClusterNodes: v.REDIS_CLUSTER_NODES,
    redisPrefix: v.REDIS_PREFIX ?? '',
    workerId: v.WORKER_ID ?? defaultWorkerId(),
    concurrency: v.WORKER_CONCURRENCY,
    leaseMs: v.LEASE_MS,
    idleReleaseMs: v.IDLE_RELEASE_MS,
    drainMs: v.WORKER_DRAIN_MS,
    pollMs: v.WORKER_POLL_MS,
    deltaFlushMs: v.DELTA_FLUSH_MS,
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
