// `npm run bench`: runs every scenario against local Postgres and a private Redis, prints each
// scenario's figures and the command that reproduces it, and writes docs/benchmarks.md and
// docs/benchmarks.json. `--quick` runs tiny sizes in seconds (CI smoke test of the harness) and
// writes to bench/results/ unless `--out` says otherwise. `--only=fanout,resume` runs a subset.
// `--systems=sessionwire` runs only those systems of the fan-out (no ratios; for profiling).
// `--idle-sizes=10000,18000` replaces the idle scenario's stream counts (default 10,000 and 50,000).
// `--merge` keeps the scenarios of the existing benchmarks.json in `out` that this run did not run
// (each scenario records when it ran), so one scenario can be refreshed without rerunning them all.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { machineInfo } from './lib/machine.mjs';
import { createBenchDatabase, ROOT, startRedis } from './lib/services.mjs';
import { headline } from './report/headline.mjs';
import { mergeReport, writeReport } from './report/markdown.mjs';
import { SCENARIOS } from './scenarios/index.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const systems = args.find((a) => a.startsWith('--systems='))?.slice('--systems='.length).split(',');
const idleSizes = args.find((a) => a.startsWith('--idle-sizes='))?.slice('--idle-sizes='.length).split(',').map(Number);
const merge = args.includes('--merge');
const out = resolve(ROOT, args.find((a) => a.startsWith('--out='))?.slice('--out='.length) ?? (quick ? 'bench/results' : 'docs'));

async function main() {
  const started = Date.now();
  const results = { generatedAt: new Date().toISOString(), quick, machine: await machineInfo(), scenarios: {}, errors: {} };
  const redis = await startRedis();
  const db = await createBenchDatabase();
  console.log(`bench: database ${db.name}, redis ${redis.url}${quick ? ' (quick)' : ''}`);
  try {
    for (const scenario of SCENARIOS) {
      if (only && !only.includes(scenario.key)) continue;
      const t0 = Date.now();
      const sizes = scenario.key === 'idle' && idleSizes ? ` --idle-sizes=${idleSizes.join(',')}` : '';
      const command = `npm run bench -- --only=${scenario.key}${quick ? ' --quick' : ''}${sizes}`;
      console.log(`\n== ${scenario.title} ==\n   reproduce: ${command}`);
      try {
        const figures = await scenario.run({ quick, db, redis, idleSizes, systems });
        results.scenarios[scenario.key] = { title: scenario.title, command, seconds: Math.round((Date.now() - t0) / 100) / 10, ranAt: new Date(t0).toISOString(), ...figures };
        console.log(JSON.stringify(figures, (k, v) => (k === 'steps' || k === 'processes' ? undefined : v)));
      } catch (error) {
        results.errors[scenario.key] = String(error.stack ?? error).slice(0, 2000);
        console.error(`   ${scenario.key} failed: ${error.message}`);
      }
    }
  } finally {
    await db.drop().catch((error) => console.error('dropping the bench database failed:', error.message));
    await redis.kill('SIGTERM');
  }
  results.totalSeconds = Math.round((Date.now() - started) / 1000);
  mkdirSync(out, { recursive: true });
  const previous = join(out, 'benchmarks.json');
  const ran = Object.keys(results.scenarios);
  if (merge && existsSync(previous)) {
    // Keep what earlier runs measured; only the scenarios run now, their sections and their
    // headline figures are replaced.
    const old = JSON.parse(readFileSync(previous, 'utf8'));
    for (const [key, figures] of Object.entries(old.scenarios ?? {})) {
      if (!(key in results.scenarios) && !(key in results.errors)) results.scenarios[key] = { ranAt: old.generatedAt, ...figures };
    }
    const fresh = Object.entries(headline({ scenarios: Object.fromEntries(ran.map((k) => [k, results.scenarios[k]])) }));
    results.headline = { ...old.headline, ...Object.fromEntries(fresh.filter(([, v]) => v !== null)) };
    results.merged = true;
    writeFileSync(previous, `${JSON.stringify(results, null, 2)}\n`);
    mergeReport(results, out, ran);
  } else {
    results.headline = headline(results);
    writeFileSync(previous, `${JSON.stringify(results, null, 2)}\n`);
    writeReport(results, out);
  }
  console.log(`\nbench: done in ${results.totalSeconds} s, wrote ${join(out, 'benchmarks.md')} and benchmarks.json`);
  if (Object.keys(results.errors).length) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
