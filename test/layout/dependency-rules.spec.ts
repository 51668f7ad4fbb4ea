import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The layout's rules (README "Layout"), checked on the sources: apps import libs, never each other
// (apps/standalone is the one composition root); libs never import apps; libs/transport, agents and
// app-kit never load the event store; configuration is read from process.env only in a main.ts.

const ROOT = resolve(__dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.ts$/.test(entry.name) && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name)
      ? [path]
      : [];
  });
}

const code = (file: string) =>
  readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');

function specifiers(file: string): string[] {
  return [
    ...code(file).matchAll(/\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g),
  ].map((m) => m[1] ?? m[2]);
}

/** `apps/api`, `libs/events`, … of a path inside the repository, or undefined outside them. */
function unitOf(path: string): string | undefined {
  const match = /^(apps|libs)\/([^/]+)\//.exec(relative(ROOT, path));
  return match ? `${match[1]}/${match[2]}` : undefined;
}

/** The units a file depends on: relative imports resolved, `@sessionwire/<lib>` as `libs/<lib>`. */
function dependencies(file: string): string[] {
  return specifiers(file).flatMap((specifier) => {
    const alias = /^@sessionwire\/([^/]+)/.exec(specifier);
    if (alias) return [`libs/${alias[1]}`];
    if (!specifier.startsWith('.')) return [];
    const unit = unitOf(resolve(dirname(file), specifier));
    return unit ? [unit] : [];
  });
}

const units = ['apps', 'libs'].flatMap((group) =>
  readdirSync(join(ROOT, group)).map((name) => `${group}/${name}`),
);
const files = units.flatMap((unit) =>
  sources(join(ROOT, unit, 'src')).map((file) => ({ unit, file, rel: relative(ROOT, file) })),
);
const allowed: Record<string, (dependency: string) => boolean> = {
  'apps/standalone': () => true,
  'libs/transport': (d) => d === 'libs/transport',
  'libs/agents': (d) => d === 'libs/agents',
  'libs/app-kit': (d) => d === 'libs/app-kit',
  'libs/events': (d) => d === 'libs/events' || d === 'libs/transport',
};
const allows = (unit: string, dependency: string) =>
  dependency === unit ||
  (allowed[unit]?.(dependency) ?? (unit.startsWith('apps/') && dependency.startsWith('libs/')));

describe('source layout', () => {
  it('finds the apps and libs it checks', () => {
    expect(units).toEqual(
      expect.arrayContaining(['apps/api', 'apps/worker', 'apps/standalone', 'libs/agents']),
    );
    expect(files.length).toBeGreaterThan(50);
  });

  it('has apps import only libs (but the standalone app), and libs only what they may', () => {
    const broken = files.flatMap(({ unit, rel, file }) =>
      dependencies(file)
        .filter((dependency) => !allows(unit, dependency))
        .map((dependency) => `${rel} → ${dependency}`),
    );
    expect(broken).toEqual([]);
  });

  it('reads process.env only in the main.ts of an app', () => {
    const readers = files
      .filter(({ file }) => /\bprocess\.env\b/.test(code(file)))
      .map(({ rel }) => rel)
      .filter((rel) => !/^apps\/[^/]+\/src\/main\.ts$/.test(rel));
    expect(readers).toEqual([]);
  });
});
