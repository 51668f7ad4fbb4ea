// Picked up by `nest build` (builder rspack) for every app: the Nest defaults, plus the Node version
// check of scripts/node-version-check.js as the first statement of each bundle.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const engines = require('./package.json').engines.node;
const major = /^>=\s*(\d+)/.exec(engines);
if (!major) throw new Error(`package.json engines.node must read ">=N", not ${engines}`);
const check = readFileSync(join(__dirname, 'scripts/node-version-check.js'), 'utf8').replaceAll(
  '__NODE_MAJOR__',
  major[1],
);

module.exports = (options, rspack) => ({
  ...options,
  plugins: [
    ...(options.plugins ?? []),
    new rspack.BannerPlugin({ banner: check, raw: true, entryOnly: true }),
  ],
});
