// Builds @sessionwire/client from libs/transport/src/client into ./dist:
//   index.mjs (ES module, minified, for browsers and Node `import`), index.cjs (Node `require`),
//   index.d.mts and index.d.cts (one bundled declaration file per condition).
// Everything the SDK imports is bundled, so the JavaScript needs nothing installed; the types refer
// to zod (the protocol's schemas), the package's one dependency.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const entry = join(root, 'libs/transport/src/client/index.ts');
const out = join(here, 'dist');

rmSync(out, { recursive: true, force: true });
const common = {
  entryPoints: [entry],
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
  // Error classes keep their names (`err.name === 'NetworkError'`) in the minified build too.
  keepNames: true,
};
await build({ ...common, format: 'esm', minify: true, outfile: join(out, 'index.mjs') });
await build({ ...common, format: 'cjs', outfile: join(out, 'index.cjs') });

const types = mkdtempSync(join(tmpdir(), 'sessionwire-client-types-'));
try {
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      entry,
      ...['--declaration', '--emitDeclarationOnly', '--ignoreConfig', '--skipLibCheck', '--strict'],
      ...['--outDir', types, '--target', 'es2023', '--module', 'esnext'],
      ...['--moduleResolution', 'bundler', '--lib', 'es2023,dom,dom.iterable'],
    ],
    { stdio: 'inherit' },
  );
  const bundle = await rollup({
    input: join(types, 'client/index.d.ts'),
    plugins: [dts()],
    external: ['zod'],
  });
  await bundle.write({ file: join(out, 'index.d.mts'), format: 'es' });
  await bundle.close();
  copyFileSync(join(out, 'index.d.mts'), join(out, 'index.d.cts'));
} finally {
  rmSync(types, { recursive: true, force: true });
}
