import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const CLIENT_DIR = __dirname;
const PROTOCOL_DIR = join(__dirname, '..', 'protocol');
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

describe('client SDK sources', () => {
  const files = [...sourceFiles(CLIENT_DIR), ...sourceFiles(PROTOCOL_DIR)];

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
