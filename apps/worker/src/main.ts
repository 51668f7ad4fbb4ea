import 'reflect-metadata';
import { connectPostgres } from '@sessionwire/events';
import { createRedisBroker } from '@sessionwire/transport/server';
import pino from 'pino';
import { createWorker } from './bootstrap';
import {
  loadWorkerConfig,
  WORKER_APPLICATION_NAME,
  type WorkerConfig,
} from './config/worker-config';
import { WorkerService } from './worker.service';

async function main(): Promise<void> {
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig(process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  const log = pino({
    name: 'sessionwire-worker',
    level: config.logLevel,
    base: { workerId: config.workerId },
  });
  const database = connectPostgres({
    url: config.databaseUrl!,
    applicationName: WORKER_APPLICATION_NAME,
    max: 20,
    onError: (error) => log.error({ err: error }, 'idle Postgres connection failed'),
  });
  const broker = createRedisBroker({
    redisUrl: config.redisUrl,
    redisClusterNodes: config.redisClusterNodes,
    prefix: config.redisPrefix,
    connectionName: `sessionwire-worker-${config.workerId}`,
    onError: (error, context) => log.error({ err: error, context }, 'redis error'),
  });
  const app = await createWorker(config, { database, broker }, { defaultMetrics: true });
  const worker = app.get(WorkerService);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, drainMs: config.drainMs }, 'draining');
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.drainMs + 15_000).unref();
    try {
      await worker.drain();
      await app.close();
      await broker.close();
      await database.close();
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'failed to stop cleanly');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  await worker.start();
  log.info(
    { concurrency: config.concurrency, metricsPort: worker.metricsPort },
    `worker ${worker.id} ready`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
