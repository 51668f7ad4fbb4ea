import 'reflect-metadata';
import { runMain, stopOnSignals } from '@sessionwire/app-kit';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import pino from 'pino';
// The single-process composition root: the only app that imports other apps' bootstraps.
import { createApiApp, drainApiApp } from '../../api/src/bootstrap';
import { authDisabled } from '../../api/src/config/api-config';
import { playgroundDir } from '../../api/src/playground/playground';
import { createWorker } from '../../worker/src/bootstrap';
import { WorkerService } from '../../worker/src/worker.service';
import { describeMode, loadStandaloneConfig } from './standalone-config';
import { openRuntime } from './standalone-runtime';
import {
  drainMessage,
  portInUse,
  startBanner,
  startupFailureLine,
  stopNowMessage,
} from './start-banner';

const log = pino({ base: { service: 'sessionwire' } });
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const config = loadStandaloneConfig(process.env);
  log.level = config.logLevel;
  const mode = describeMode(config.mode);
  await assertPortFree(config.api.port);
  log.info({ mode }, 'starting API and worker in one process');
  const runtime = await openRuntime(config.mode, config.api.redisPrefix, log);

  const api = await createApiApp(config.api, {
    database: runtime.apiDatabase,
    broker: runtime.broker,
    limitsRedis: runtime.limitsRedis,
  });
  const worker = await createWorker(config.worker, {
    database: runtime.workerDatabase,
    broker: runtime.broker,
  });
  const workerService = worker.get(WorkerService);
  await listen(api, config.api.port); // before the worker claims anything
  await workerService.start();
  const banner = startBanner({
    port: config.api.port,
    mode,
    authEnabled: !authDisabled(config.api),
    playground: config.api.playground && playgroundDir() !== undefined,
  });
  // After the startup logs that Nest flushes on the next turns of the event loop.
  setTimeout(() => say(banner), 100);

  stopOnSignals({
    log,
    drainMs: Math.max(config.api.drainMs, config.worker.drainMs),
    stop: async () => {
      await Promise.all([drainApiApp(api, config.api), workerService.drain()]);
      await worker.close();
      await runtime.close();
    },
    announce: {
      say,
      draining: (signal) => drainMessage(signal, config.api.drainMs, config.worker.drainMs),
      stopNow: stopNowMessage,
    },
  });
}

/** Fails in one line, before anything is opened, when the port is taken (Nest would log it too). */
async function assertPortFree(port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    probe.listen(port);
    await once(probe, 'listening');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(port);
    throw error;
  }
  probe.close();
  await once(probe, 'close');
}

async function listen(api: NestExpressApplication, port: number): Promise<void> {
  try {
    await api.listen(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(port);
    throw error;
  }
}

runMain(log, main, { describeFailure: startupFailureLine });
