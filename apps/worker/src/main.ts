import 'reflect-metadata';
import { runMain, stopOnSignals } from '@sessionwire/app-kit';
import { connectPostgres } from '@sessionwire/events';
import { createRedisBroker } from '@sessionwire/transport/server';
import pino from 'pino';
import { createWorker } from './bootstrap';
import { loadWorkerConfig, WORKER_APPLICATION_NAME } from './config/worker-config';
import { WorkerService } from './worker.service';

const startupLog = pino({ name: WORKER_APPLICATION_NAME });

async function main(): Promise<void> {
  const config = loadWorkerConfig(process.env);
  const log = pino({
    name: WORKER_APPLICATION_NAME,
    level: config.logLevel,
    base: { workerId: config.workerId },
  });
  const database = connectPostgres({
    url: config.databaseUrl,
    applicationName: WORKER_APPLICATION_NAME,
    max: config.databasePoolMax,
    queueMax: config.databaseQueueMax,
    namedStatements: config.databaseNamedStatements,
    onError: (error) => log.error({ err: error }, 'idle Postgres connection failed'),
  });
  const broker = createRedisBroker({
    redis: config.redis,
    prefix: config.redisPrefix,
    connectionName: `${WORKER_APPLICATION_NAME}-${config.workerId}`,
    onError: (error, context) => log.error({ err: error, context }, 'redis error'),
  });
  const app = await createWorker(config, { database, broker }, { defaultMetrics: true });
  const worker = app.get(WorkerService);

  stopOnSignals({
    log,
    drainMs: config.drainMs,
    stop: async () => {
      await worker.drain();
      await app.close();
      await broker.close();
      await database.close();
    },
  });

  await worker.start();
  log.info(
    { concurrency: config.concurrency, metricsPort: worker.metricsPort },
    `worker ${worker.id} ready`,
  );
}

runMain(startupLog, main);
