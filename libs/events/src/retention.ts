import { Client } from 'pg';
import {
  maintainEventPartitions,
  type MaintenanceOptions,
  type MaintenanceResult,
} from './partition-maintenance';

/** Arbitrary constant key of the advisory lock that serializes retention runs. */
const RETENTION_LOCK_KEY = 7_341_926_002;

export interface RetentionOptions extends MaintenanceOptions {
  applicationName: string;
  /** How long a run waits for another run to finish before giving up (default 10 min). */
  waitForOtherRunMs?: number;
}

/**
 * `npm run db:retention`: creates the coming days' partitions of `events` and, with
 * `retentionDays`, drops those older than that (see {@link maintainEventPartitions}). Safe to run
 * from several places at once: a session-level advisory lock makes the others wait, then find
 * nothing left to do.
 */
export async function runRetention(
  url: string,
  options: RetentionOptions,
): Promise<MaintenanceResult> {
  const client = new Client({ connectionString: url, application_name: options.applicationName });
  await client.connect();
  try {
    await client.query(`set timezone = 'UTC'`);
    const deadline = Date.now() + (options.waitForOtherRunMs ?? 600_000);
    for (;;) {
      const { rows } = await client.query('select pg_try_advisory_lock($1) as locked', [
        RETENTION_LOCK_KEY,
      ]);
      if (rows[0].locked) break;
      if (Date.now() > deadline) throw new Error('another retention run is still going on');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    try {
      return await maintainEventPartitions(client, options);
    } finally {
      await client.query('select pg_advisory_unlock($1)', [RETENTION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}
