import 'reflect-metadata';
import pino from 'pino';
// The single-process composition root: the only app that imports other apps' bootstraps.
import { createApiApp, drainApiApp } from '../../api/src/bootstrap';
import { authDisabled } from '../../api/src/config/api-config';
import { createWorker } from '../../worker/src/bootstrap';
import { WorkerService } from '../../worker/src/worker.service';
import { describeMode, loadStandaloneConfig } from './standalone-config';
import { openRuntime } from './standalone-runtime';
import { startBanner } from './start-banner';

const log = pino({ base: { service: 'sessionwire' }, level: process.env.LOG_LEVEL || 'info' });

async function main(): Promise<void> {
  const config = loadStandaloneConfig(process.env);
  const mode = describeMode(config.mode);
  log.info({ mode }, 'starting API and worker in one process');
  const runtime = await openRuntime(config.mode, config.api.redisPrefix, log);

  const api = await createApiApp(config.api, {
    database: runtime.apiDatabase,
    broker: runtime.broker,
  });
  const worker = await createWorker(config.worker, {
    database: runtime.workerDatabase,
    broker: runtime.broker,
  });
  const workerService = worker.get(WorkerService);
  await workerService.start();
  await api.listen(config.api.port);
  const banner = startBanner({
    port: config.api.port,
    mode,
    authEnabled: !authDisabled(config.api),
  });
  // After the startup logs that Nest flushes on the next turns of the event loop.
  setTimeout(() => process.stdout.write(`${banner}\n`), 100);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    const limit = Math.max(config.api.drainMs, config.worker.drainMs) + 15_000;
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, limit).unref();
    try {
      await Promise.all([drainApiApp(api, config.api), workerService.drain()]);
      await worker.close();
      await runtime.close();
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

main().catch((error: unknown) => {
  log.fatal({ err: error }, error instanceof Error ? error.message : 'startup failed');
  process.exit(1);
});
