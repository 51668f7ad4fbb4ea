import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadApiConfig, loadRetentionConfig } from '../../apps/api/src/config/api-config';
import { loadWorkerConfig } from '../../apps/worker/src/config/worker-config';

export const ROOT = resolve(__dirname, '../..');

export function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** Parses one YAML file with merge keys (`<<: *anchor`) resolved, as docker compose does. */
export function readYaml(path: string): Record<string, unknown> {
  return parse(readRepoFile(path), { merge: true }) as Record<string, unknown>;
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  file: string;
}

/** Every document of every YAML file under `dir`, with the file it came from. */
export function readManifests(dir: string): Manifest[] {
  const files = readdirSync(join(ROOT, dir)).filter((f) => /\.ya?ml$/.test(f));
  return files.flatMap((file) =>
    parseAllDocuments(readRepoFile(join(dir, file))).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      return { ...(doc.toJS() as Omit<Manifest, 'file'>), file };
    }),
  );
}

/** `20s`, `1m30s`, `500ms`, or a bare number of seconds → milliseconds. */
export function durationMs(value: string | number): number {
  if (typeof value === 'number') return value * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = value.trim();
  if (/^\d+$/.test(rest)) return Number(rest) * 1000;
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!match) throw new Error(`not a duration: ${value}`);
    total += Number(match[1]) * units[match[2]];
    rest = rest.slice(match[0].length);
  }
  return total;
}

/** The value of `directive` in an nginx config block's text (first occurrence). */
export function nginxDirective(conf: string, directive: string): string | undefined {
  const match = new RegExp(`^\\s*${directive}\\s+([^;{\\n]+);`, 'm').exec(conf);
  return match?.[1].trim();
}

/** The words of a directive's value, with `name=value` parameters split out. */
export function nginxParams(value: string): { words: string[]; params: Record<string, string> } {
  const words: string[] = [];
  const params: Record<string, string> = {};
  for (const token of value.trim().split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq > 0) params[token.slice(0, eq)] = token.slice(eq + 1);
    else words.push(token);
  }
  return { words, params };
}

/**
 * The environment variables a config loader reads, recorded by running it on a spying env that
 * holds only `given` (what the loader cannot do without).
 */
export function variablesReadBy(
  load: (env: NodeJS.ProcessEnv) => unknown,
  given: Record<string, string> = {},
): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, key) => {
      if (typeof key !== 'string') return undefined;
      read.add(key);
      return given[key];
    },
  });
  load(env);
  return read;
}

export const API_VARIABLES = variablesReadBy((env) =>
  loadApiConfig(env, { requireConnections: false }),
);
export const WORKER_VARIABLES = variablesReadBy((env) =>
  loadWorkerConfig(env, { requireConnections: false }),
);
/** What `main.js retention` reads (the retention CronJob). */
export const RETENTION_VARIABLES = variablesReadBy(loadRetentionConfig, {
  DATABASE_URL: 'postgres://retention@db/sessionwire',
});
