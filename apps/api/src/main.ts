import 'reflect-metadata';
import { runMain, stopOnSignals } from '@sessionwire/app-kit';
import { connectPostgres, migratePostgres } from '@sessionwire/events';
import { createRedisBroker, createRedisCommandClient } from '@sessionwire/transport/server';
import pino from 'pino';
import { createApiApp, drainApiApp } from './bootstrap';
import {
  loadApiConfig,
  loadMigrateConfig,
  loadRetentionConfig,
  type ApiProcessConfig,
} from './config/api-config';
import { retentionCommand } from './maintenance/retention.command';

const APPLICATION_NAME = 'sessionwire-api';
const log = pino({ base: { service: APPLICATION_NAME } });

async function migrate(): Promise<void> {
  const config = loadMigrateConfig(process.env);
  log.level = config.logLevel;
  await migratePostgres(config.databaseUrl, APPLICATION_NAME);
  log.info('migrations applied');
}

async function retention(): Promise<void> {
  const config = loadRetentionConfig(process.env);
  log.level = config.logLevel;
  await retentionCommand(config, log);
}

async function serve(config: ApiProcessConfig): Promise<void> {
  log.level = config.logLevel;
  const database = connectPostgres({
    url: config.databaseUrl,
    applicationName: APPLICATION_NAME,
    max: config.databasePoolMax,
    queueMax: config.databaseQueueMax,
    namedStatements: config.databaseNamedStatements,
    onError: (error) => log.warn({ err: error }, 'idle postgres connection failed'),
  });
  const broker = createRedisBroker({
    redis: config.redis,
    prefix: config.redisPrefix,
    connectionName: APPLICATION_NAME,
    onError: (error, context) => log.warn({ err: error, context }, 'redis error'),
  });
  const limitsRedis = createRedisCommandClient(config.redis, {
    connectionName: `${APPLICATION_NAME}-limits`,
    onError: (error) => log.debug({ err: error }, 'redis error (rate limits)'),
  });
  const app = await createApiApp(config, { database, broker, limitsRedis });
  await app.listen(config.port);
  log.info({ port: config.port }, 'api listening');

  stopOnSignals({
    log,
    drainMs: config.drainMs,
    stop: async () => {
      await drainApiApp(app, config);
      limitsRedis.disconnect();
      await Promise.allSettled([broker.close(), database.close()]);
    },
  });
}

runMain(log, () => {
  if (process.argv[2] === 'migrate') return migrate();
  if (process.argv[2] === 'retention') return retention();
  return serve(loadApiConfig(process.env));
});
