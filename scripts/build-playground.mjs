// Copies the playground page and the SDK's browser bundle into dist/playground, where the API finds
// them (`/`, `/playground/*`, `/sdk/*`). Run after build:client.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'apps/api/src/playground/static');
const sdk = join(root, 'packages/client/dist');
const out = join(root, 'dist/playground');

if (!existsSync(join(sdk, 'index.mjs'))) throw new Error(`${sdk}/index.mjs is missing: npm run build:client`);
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
mkdirSync(join(out, 'sdk'), { recursive: true });
cpSync(join(source, 'index.html'), join(out, 'index.html'));
for (const file of ['app.js', 'app.css']) cpSync(join(source, file), join(out, 'assets', file));
for (const file of ['index.mjs', 'index.mjs.map']) cpSync(join(sdk, file), join(out, 'sdk', file));
