import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PG_URL_ENV, requireEnv } from '../services';

const ROOT = resolve(__dirname, '..', '..');
const SCENARIOS = [
  'fanout',
  'workers',
  'resume',
  'idle',
  'storm',
  'append',
  'partitions',
  'capacity',
  'accept',
  'aisdk',
];

// A smoke test of the benchmark harness: `--quick` runs every scenario at tiny sizes and the
// report must hold every figure. It asserts nothing about speed.
describe('bench --quick', () => {
  const out = mkdtempSync(join(tmpdir(), 'sw-bench-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every scenario and writes every figure to benchmarks.json and benchmarks.md', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--no-warnings', 'bench/run.mjs', '--quick', `--out=${out}`],
      {
        cwd: ROOT,
        env: { ...process.env, BENCH_DATABASE_URL: requireEnv(PG_URL_ENV) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect({ code, output: code === 0 ? '' : output.slice(-4000) }).toEqual({
      code: 0,
      output: '',
    });

    const results = JSON.parse(readFileSync(join(out, 'benchmarks.json'), 'utf8'));
    expect(results.errors).toEqual({});
    expect(Object.keys(results.scenarios).sort()).toEqual([...SCENARIOS].sort());
    // A ratio has no value when its baseline measured 0 at --quick sizes on a loaded machine: the
    // capacity ladder with group commit off whose first step already passed the stretch threshold,
    // or a distinct-session storm whose transactions did not exceed the database's quiet rate.
    // What the ratio divides must still have been measured.
    const { capacity, storm } = results.scenarios;
    const undefinedRatios = [
      ...(capacity.unbatched.largestN === 0
        ? ['capacity: largest N, group commit / APPEND_BATCH_MAX=1']
        : []),
      ...(storm.distinctSessions.postgresTransactions === 0
        ? ['reconnect storm: transactions with identical cursors / with distinct sessions']
        : []),
    ];
    expect(storm.postgresTransactions).toEqual(expect.any(Number));
    expect(storm.distinctSessions.postgresTransactions).toEqual(expect.any(Number));
    const missing = Object.entries(results.headline as Record<string, unknown>).filter(
      ([k, v]) => (typeof v !== 'number' || Number.isNaN(v)) && !undefinedRatios.includes(k),
    );
    expect(missing).toEqual([]);
    for (const ladder of [capacity.groupCommit, capacity.unbatched]) {
      expect(ladder.steps.length).toBeGreaterThan(0);
      for (const step of ladder.steps) {
        expect(step.stretch ?? step.stretchLowerBound).toEqual(expect.any(Number));
        expect(step.deliveryRatio).toEqual(expect.any(Number));
      }
    }
    for (const key of ['sessionwire', 'sessionwireOneCommit', 'socketio', 'resumable']) {
      const system = results.scenarios.fanout.systems[key];
      expect(system.steps.length).toBeGreaterThan(0);
      for (const step of system.steps) {
        expect(step.received).toBeGreaterThan(0);
        expect(step.latencyMs.p99).toEqual(expect.any(Number));
        if (key.startsWith('sessionwire')) {
          expect(step.storedMs.p99).toEqual(expect.any(Number));
          expect(step.commitMs.p99).toEqual(expect.any(Number));
        }
      }
    }
    for (const gap of results.scenarios.resume.gaps) {
      expect(results.scenarios.resume.sessionwire.cases[gap].doneMs).toEqual(expect.any(Number));
    }
    const aisdk = results.scenarios.aisdk;
    for (const system of [aisdk.sessionwire, aisdk.resumable]) {
      expect(system).toEqual({
        firstChunkMs: expect.any(Number),
        doneMs: expect.any(Number),
        bytes: expect.any(Number),
        ...(system === aisdk.resumable && { note: expect.any(String) }),
      });
    }
    for (const key of SCENARIOS) expect(output).toContain(`npm run bench -- --only=${key} --quick`);
    const markdown = readFileSync(join(out, 'benchmarks.md'), 'utf8');
    for (const heading of [
      '## Headline',
      '## 1.',
      '## 2.',
      '## 3.',
      '## 4.',
      '## 5.',
      '## 7.',
      '## 8.',
      '## 9.',
      '## Peers',
    ]) {
      expect(markdown).toContain(heading);
    }
    expect(existsSync(join(out, 'benchmarks-fanout.svg'))).toBe(true);
    expect(existsSync(join(out, 'benchmarks-resume.svg'))).toBe(true);
  }, 360_000);
});
