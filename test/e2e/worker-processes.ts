import type { TestDatabase } from '../database';
import { testRedisUrl } from '../database';
import { ManagedProcess } from '../process';

/** A built worker (`dist/apps/worker/main.js`) on the test database, ready once it says so. */
export function workerProcess(
  db: TestDatabase,
  prefix: string,
  name: string,
  env: Record<string, string> = {},
): ManagedProcess {
  return new ManagedProcess({
    name,
    entry: 'dist/apps/worker/main.js',
    env: {
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: prefix,
      WORKER_ID: name,
      LEASE_MS: '2000',
      WORKER_POLL_MS: '200',
      LOG_LEVEL: 'info',
      ...env,
    },
    readyLine: /worker \S+ ready/,
  });
}
