import { parseClusterSeeds, type ClusterSeed } from '@sessionwire/transport/server/cluster-seeds';
import { z } from 'zod';

/** Agents a session may name; workers ship a runtime for each. */
export const KNOWN_AGENTS = ['demo', 'openai'] as const;
export type AgentName = (typeof KNOWN_AGENTS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Everything the API reads from its environment, validated once at start. */
export interface ApiConfig {
  port: number;
  databaseUrl?: string;
  redisUrl?: string;
  /** Redis Cluster seeds (`REDIS_CLUSTER_NODES`), used instead of `redisUrl`. */
  redisClusterNodes?: ClusterSeed[];
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
  logLevel: (typeof LOG_LEVELS)[number];
  production: boolean;
  agents: readonly string[];
  /** Origins allowed by CORS (`*` for any); empty: no CORS headers (same-origin pages only). */
  corsOrigins: string[];
  /** `retention` removes events older than this many days; undefined keeps everything. */
  eventRetentionDays?: number;
}

export interface LoadApiConfigOptions {
  /** `DATABASE_URL` and `REDIS_URL` must be set (the standalone app passes false). */
  requireConnections?: boolean;
}

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a non-negative integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL (${protocols.join(' or ')})`,
  );

const clusterSeeds = z
  .string()
  .transform((value, ctx) => {
    try {
      return parseClusterSeeds(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  })
  .optional();

const schema = z.object({
  PORT: int(0, 65535).default(3000),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  REDIS_CLUSTER_NODES: clusterSeeds,
  REDIS_PREFIX: z.string().max(100).default(''),
  MAX_REPLAY_GAP: int(1, 1_000_000).default(200),
  SYNC_INTERVAL_MS: int(10, 3_600_000).default(5000),
  HEARTBEAT_MS: int(10, 3_600_000).default(15000),
  STREAM_MAX_BUFFER_BYTES: int(1024, 1024 ** 3).default(1048576),
  DRAIN_MS: int(0, 600_000).default(10000),
  MAX_MESSAGE_BYTES: int(1, 16 * 1024 * 1024).default(65536),
  API_KEYS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((key) => key.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().min(16, 'every key must have at least 16 characters')))
    .optional(),
  AUTH_SECRET: z
    .string()
    .refine((value) => Buffer.byteLength(value, 'utf8') >= 32, 'must be at least 32 bytes')
    .optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  CORS_ORIGINS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z
          .string()
          .refine(
            (origin) => origin === '*' || /^https?:\/\/[^/\s]+$/.test(origin),
            'must be * or origins like https://app.example.com (scheme and host, no path)',
          ),
      ),
    )
    .optional(),
  EVENT_RETENTION_DAYS: int(1, 100_000).optional(),
  NODE_ENV: z.string().optional(),
});

/**
 * Reads the API's configuration (PROTOCOL §7). An empty variable counts as unset. Throws an Error
 * naming the offending variable.
 */
export function loadApiConfig(
  env: NodeJS.ProcessEnv,
  options: LoadApiConfigOptions = {},
): ApiConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid configuration: ${String(issue.path[0])} ${issue.message}`);
  }
  const c = parsed.data;
  const requireConnections = options.requireConnections ?? true;
  if (requireConnections && !c.DATABASE_URL) {
    throw new Error('invalid configuration: DATABASE_URL is required');
  }
  if (c.REDIS_URL && c.REDIS_CLUSTER_NODES) {
    throw new Error(
      'invalid configuration: REDIS_URL and REDIS_CLUSTER_NODES are both set; set one',
    );
  }
  if (c.REDIS_CLUSTER_NODES && /[{}]/.test(c.REDIS_PREFIX)) {
    throw new Error(
      'invalid configuration: REDIS_PREFIX must not contain { or } with a Redis Cluster',
    );
  }
  if (requireConnections && !c.REDIS_URL && !c.REDIS_CLUSTER_NODES) {
    throw new Error('invalid configuration: REDIS_URL (or REDIS_CLUSTER_NODES) is required');
  }
  const apiKeys = c.API_KEYS ?? [];
  const production = c.NODE_ENV === 'production';
  if (production && apiKeys.length === 0 && !c.AUTH_SECRET) {
    throw new Error(
      'invalid configuration: API_KEYS or AUTH_SECRET is required when NODE_ENV=production',
    );
  }
  return {
    port: c.PORT,
    databaseUrl: c.DATABASE_URL,
    redisUrl: c.REDIS_URL,
    redisClusterNodes: c.REDIS_CLUSTER_NODES,
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
    agents: KNOWN_AGENTS,
    corsOrigins: c.CORS_ORIGINS ?? [],
    eventRetentionDays: c.EVENT_RETENTION_DAYS,
  };
}

/** True when neither API keys nor a token secret are configured: every request is allowed. */
export function authDisabled(config: ApiConfig): boolean {
  return config.apiKeys.length === 0 && !config.authSecret;
}
