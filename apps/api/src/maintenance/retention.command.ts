import { runRetention } from '@sessionwire/events';
import type { Logger } from 'pino';
import type { RetentionConfig } from '../config/api-config';

/**
 * `node dist/apps/api/main.js retention` (`npm run db:retention`): prepares the coming days'
 * event partitions and, with EVENT_RETENTION_DAYS, drops those older than that. Meant for cron or
 * the Kubernetes CronJob; runs started at once wait for each other.
 */
export async function retentionCommand(config: RetentionConfig, log: Logger): Promise<void> {
  const started = Date.now();
  const result = await runRetention(config.databaseUrl, {
    applicationName: 'sessionwire-retention',
    retentionDays: config.eventRetentionDays,
    log: (message, fields) => log.warn(fields ?? {}, message),
  });
  log.info(
    {
      ...result,
      retentionDays: config.eventRetentionDays ?? null,
      ms: Date.now() - started,
    },
    config.eventRetentionDays === undefined
      ? 'retention: partitions ready; EVENT_RETENTION_DAYS is unset, nothing dropped'
      : `retention: partitions ready; dropped ${result.dropped.length}`,
  );
}
