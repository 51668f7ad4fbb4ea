import 'reflect-metadata';
import { connectPostgres, migratePostgres } from '@sessionwire/events';
import { createRedisBroker } from '@sessionwire/transport/server';
import pino from 'pino';
import { createApiApp, drainApiApp } from './bootstrap';
import { loadApiConfig, type ApiConfig } from './config/api-config';
import { retentionCommand } from './maintenance/retention.command';

const APPLICATION_NAME = 'sessionwire-api';
const log = pino({ base: { service: APPLICATION_NAME }, level: process.env.LOG_LEVEL || 'info' });

async function migrate(env: NodeJS.ProcessEnv): Promise<void> {
  const url = env.DATABASE_URL;
  if (!url) throw new Error('invalid configuration: DATABASE_URL is required');
  await migratePostgres(url, APPLICATION_NAME);
  log.info('migrations applied');
}

async function serve(config: ApiConfig): Promise<void> {
  const database = connectPostgres({
    url: config.databaseUrl!,
    applicationName: APPLICATION_NAME,
    onError: (error) => log.warn({ err: error }, 'idle postgres connection failed'),
  });
  const broker = createRedisBroker({
    redisUrl: config.redisUrl,
    redisClusterNodes: config.redisClusterNodes,
    prefix: config.redisPrefix,
    connectionName: APPLICATION_NAME,
    onError: (error, context) => log.warn({ err: error, context }, 'redis error'),
  });
  const app = await createApiApp(config, { database, broker });
  await app.listen(config.port);
  log.info({ port: config.port }, 'api listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, drainMs: config.drainMs }, 'draining');
    const hardStop = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.drainMs + 15_000);
    hardStop.unref();
    try {
      await drainApiApp(app, config);
      await Promise.allSettled([broker.close(), database.close()]);
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

async function main(): Promise<void> {
  if (process.argv[2] === 'migrate') {
    await migrate(process.env);
    return;
  }
  if (process.argv[2] === 'retention') {
    return retentionCommand(loadApiConfig(process.env, { requireConnections: false }), log);
  }
  await serve(loadApiConfig(process.env));
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, error instanceof Error ? error.message : 'startup failed');
  process.exit(1);
});
