import { z } from 'zod';

/**
 * A node of a Redis Cluster to connect to first; the others are discovered from it. The same shape
 * as the transport's `ClusterSeed` (the broker's input): the apps hand one to the other.
 */
export interface ClusterSeed {
  host: string;
  port: number;
  /** `rediss://` seeds: every connection to the cluster uses TLS. */
  tls?: boolean;
  /** From `redis://user:password@host:port` seeds: AUTH for every connection. */
  username?: string;
  password?: string;
}

/**
 * Parses `REDIS_CLUSTER_NODES`: seeds separated by commas, each `host:port` (IPv6 hosts in
 * brackets, `[::1]:7000`) or, for a managed cluster that wants TLS or AUTH, a URL
 * `rediss://user:password@host:port`. URL seeds must agree on TLS and credentials (they apply to
 * every node). Throws an Error saying what is wrong with the first bad entry.
 */
export function parseClusterSeeds(value: string): ClusterSeed[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('must list at least one host:port');
  const seeds = entries.map(parseSeed);
  const access = (s: ClusterSeed) => JSON.stringify([!!s.tls, s.username ?? '', s.password ?? '']);
  if (new Set(seeds.map(access)).size > 1) {
    throw new Error('all seeds must use the same scheme and credentials');
  }
  return seeds;
}

/** A `REDIS_CLUSTER_NODES` value, for the schemas given to `readEnv` (see {@link parseClusterSeeds}). */
export function clusterSeeds() {
  return z.string().transform((value, ctx) => {
    try {
      return parseClusterSeeds(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
}

function parseSeed(entry: string): ClusterSeed {
  const bad = () => new Error(`must be host:port,host:port,… (bad entry "${entry}")`);
  if (/^rediss?:\/\//.test(entry)) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw bad();
    }
    const port = Number(url.port || 6379);
    if (!url.hostname || (url.pathname !== '' && url.pathname !== '/')) throw bad();
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port,
      ...(url.protocol === 'rediss:' ? { tls: true } : {}),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    };
  }
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/@]+):(\d{1,5})$/.exec(entry);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) throw bad();
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}
