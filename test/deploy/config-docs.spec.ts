import { loadApiConfig, loadRetentionConfig } from '../../apps/api/src/config/api-config';
import { loadWorkerConfig } from '../../apps/worker/src/config/worker-config';
import {
  API_VARIABLES,
  readRepoFile,
  RETENTION_VARIABLES,
  WORKER_VARIABLES,
} from './manifest-helpers';

interface Row {
  name: string;
  readBy: string[];
  default?: string;
}

/** The rows of docs/deploy.md's configuration table (between its marker comments). */
function documentedRows(): Row[] {
  const doc = readRepoFile('docs/deploy.md');
  const table = /<!-- config-table:start -->\n([\s\S]*?)<!-- config-table:end -->/.exec(doc);
  if (!table) throw new Error('docs/deploy.md has no config-table markers');
  return table[1]
    .trim()
    .split('\n')
    .slice(2)
    .map((line) => {
      const [name, readBy, fallback] = line
        .split('|')
        .slice(1, 4)
        .map((cell) => cell.trim().replace(/^`|`$/g, ''));
      return {
        name,
        readBy: readBy.split(',').map((s) => s.trim()),
        default: fallback === '—' ? undefined : fallback,
      };
    });
}

const rows = documentedRows();
const loaders = {
  api: (env: NodeJS.ProcessEnv) => loadApiConfig(env, { requireConnections: false }),
  worker: (env: NodeJS.ProcessEnv) => loadWorkerConfig(env, { requireConnections: false }),
  retention: (env: NodeJS.ProcessEnv) =>
    loadRetentionConfig({ DATABASE_URL: 'postgres://docs-check/db', ...env }),
};
const variables = { api: API_VARIABLES, worker: WORKER_VARIABLES, retention: RETENTION_VARIABLES };
const apps = ['api', 'worker', 'retention'] as const;
// A fixed worker id: the default one is random, which would make two loads differ.
const BASE_ENV = { WORKER_ID: 'docs-check' };

describe('docs/deploy.md configuration table', () => {
  it('lists every variable the api, worker and retention read, once, and nothing else', () => {
    const documented = rows.map((r) => r.name);
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual(
      [...new Set([...API_VARIABLES, ...WORKER_VARIABLES, ...RETENTION_VARIABLES])].sort(),
    );
  });

  it.each(rows.map((r) => [r.name, r]))('says which apps read %s', (_name, row) => {
    const readers = apps.filter((app) => variables[app].has(row.name));
    expect(row.readBy).toEqual(readers);
  });

  it.each(rows.filter((r) => r.default !== undefined).map((r) => [r.name, r]))(
    'states the default of %s',
    (_name, row) => {
      for (const app of row.readBy as (typeof apps)[number][]) {
        const unset = loaders[app](BASE_ENV);
        const explicit = loaders[app]({ ...BASE_ENV, [row.name]: row.default });
        expect({ app, config: explicit }).toEqual({ app, config: unset });
      }
    },
  );

  it('tells a non-default value from the default (the comparison above can fail)', () => {
    const changed = loaders.api({ ...BASE_ENV, HEARTBEAT_MS: '15001' });
    expect(changed).not.toEqual(loaders.api(BASE_ENV));
  });
});
