import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const CLIENT_DIR = __dirname;
const PROTOCOL_DIR = join(__dirname, '..', 'protocol');
/** The SDK is built from these folders only: a file outside them is never bundled for browsers. */
const SDK_DIRS = [CLIENT_DIR, PROTOCOL_DIR];
const ALLOWED_PACKAGES = new Set(['uuid', 'eventsource-parser', 'zod']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
  ];
  return specifiers.map((m) => m[1]);
}

/** The file a relative specifier names, as TypeScript resolves it (`./x` → x.ts or x/index.ts). */
function resolveRelative(from: string, specifier: string): string {
  const base = resolve(dirname(from), specifier);
  const found = [`${base}.ts`, join(base, 'index.ts')].find((path) => existsSync(path));
  if (!found) throw new Error(`${relative(CLIENT_DIR, from)}: cannot resolve "${specifier}"`);
  return found;
}

/** Every file reachable from `roots` through relative imports, each with the file that reached it. */
function reachableFiles(roots: string[]): Map<string, string> {
  const reachedFrom = new Map<string, string>(roots.map((root) => [root, root]));
  const pending = [...roots];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    for (const specifier of importsOf(file)) {
      if (!specifier.startsWith('.')) continue;
      const target = resolveRelative(file, specifier);
      if (reachedFrom.has(target)) continue;
      reachedFrom.set(target, file);
      pending.push(target);
    }
  }
  return reachedFrom;
}

const inSdk = (file: string) => SDK_DIRS.some((dir) => file.startsWith(dir + sep));

describe('client SDK sources', () => {
  const roots = [...sourceFiles(CLIENT_DIR), ...sourceFiles(PROTOCOL_DIR)];
  const reached = reachableFiles(roots);
  const files = [...reached.keys()];

  it('finds the files it checks', () => {
    expect(files.map((f) => relative(CLIENT_DIR, f))).toEqual(
      expect.arrayContaining([
        'index.ts',
        'session-stream.ts',
        'outbox.ts',
        '../protocol/events.ts',
      ]),
    );
  });

  it('reaches, through relative imports, only files of client/ and protocol/', () => {
    const outside = [...reached]
      .filter(([file]) => !inSdk(file))
      .map(
        ([file, by]) => `${relative(CLIENT_DIR, file)} (imported by ${relative(CLIENT_DIR, by)})`,
      );
    expect(outside).toEqual([]);
  });

  it.each(files.map((f) => [relative(CLIENT_DIR, f), f]))(
    '%s imports no Node built-in, no Nest and no other package',
    (_name, file) => {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.')) continue;
        expect(specifier).not.toMatch(/^node:/);
        expect(builtinModules).not.toContain(specifier.split('/')[0]);
        expect(specifier).not.toMatch(/^@nestjs\//);
        expect(ALLOWED_PACKAGES).toContain(specifier);
      }
    },
  );

  it('uses no Node-only globals', () => {
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect({
        file,
        hits: text.match(/\b(process\.\w|Buffer\b|__dirname|setImmediate\b)/g),
      }).toEqual({
        file,
        hits: null,
      });
    }
  });
});
