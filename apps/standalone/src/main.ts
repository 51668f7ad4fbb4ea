import 'reflect-metadata';
import { runMain, stopOnSignals } from '@sessionwire/app-kit';
import pino from 'pino';
// The single-process composition root: the only app that imports other apps' bootstraps.
import { createApiApp, drainApiApp } from '../../api/src/bootstrap';
import { authDisabled } from '../../api/src/config/api-config';
import { createWorker } from '../../worker/src/bootstrap';
import { WorkerService } from '../../worker/src/worker.service';
import { describeMode, loadStandaloneConfig } from './standalone-config';
import { openRuntime } from './standalone-runtime';
import { startBanner } from './start-banner';

const log = pino({ base: { service: 'sessionwire' } });

async function main(): Promise<void> {
  const config = loadStandaloneConfig(process.env);
  log.level = config.logLevel;
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

  stopOnSignals({
    log,
    drainMs: Math.max(config.api.drainMs, config.worker.drainMs),
    stop: async () => {
      await Promise.all([drainApiApp(api, config.api), workerService.drain()]);
      await worker.close();
      await runtime.close();
    },
  });
}

runMain(log, main);
