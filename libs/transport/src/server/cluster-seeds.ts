/** A node of a Redis Cluster to connect to first; the others are discovered from it. */
export interface ClusterSeed {
  host: string;
  port: number;
}

/**
 * Parses `REDIS_CLUSTER_NODES`: `host:port` seeds separated by commas (IPv6 hosts in brackets,
 * `[::1]:7000`). Throws an Error saying what is wrong with the first bad entry.
 */
export function parseClusterSeeds(value: string): ClusterSeed[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('must list at least one host:port');
  return entries.map((entry) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      throw new Error(`must be host:port,host:port,… (bad entry "${entry}")`);
    }
    return { host: match[1].replace(/^\[|\]$/g, ''), port };
  });
}
