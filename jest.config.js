// Three tiers by suffix: *.spec.ts (unit, no services), *.int-spec.ts (real Postgres and Redis),
// *.e2e-spec.ts (built processes over HTTP). Services start once per run (test/global-setup.ts).
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

const base = {
  rootDir: __dirname,
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  testEnvironment: 'node',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

const withServices = {
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};

module.exports = {
  // On 2 cores jest runs every file in one process, so anything a failed test leaves running
  // (a reconnecting client, a timer) would hold CI until its time limit. CI exits once the run
  // is over (jest then prints a reminder to look for open handles); locally it waits as usual.
  forceExit: process.env.CI === 'true',
  projects: [
    { ...base, displayName: 'unit', testRegex: '\\.spec\\.ts$' },
    {
      ...base,
      ...withServices,
      displayName: 'integration',
      testRegex: '\\.int-spec\\.ts$',
      setupFilesAfterEnv: ['<rootDir>/test/timeouts/integration.ts'],
    },
    {
      ...base,
      ...withServices,
      displayName: 'e2e',
      testRegex: '\\.e2e-spec\\.ts$',
      setupFilesAfterEnv: ['<rootDir>/test/timeouts/e2e.ts'],
    },
  ],
};
