import 'reflect-metadata';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { constants } from 'node:os';
import type { NestExpressApplication } from '@nestjs/platform-express';
import pino from 'pino';
// The single-process composition root: the only app that imports other apps' bootstraps.
import { createApiApp, drainApiApp } from '../../api/src/bootstrap';
import { authDisabled } from '../../api/src/config/api-config';
import { playgroundDir } from '../../api/src/playground/playground';
import { createWorker } from '../../worker/src/bootstrap';
import { WorkerService } from '../../worker/src/worker.service';
import { describeMode, loadStandaloneConfig, type StandaloneConfig } from './standalone-config';
import { openRuntime } from './standalone-runtime';
import {
  drainMessage,
  portInUse,
  startBanner,
  startupFailureLine,
  stopNowMessage,
} from './start-banner';

const log = pino({ base: { service: 'sessionwire' }, level: process.env.LOG_LEVEL || 'info' });
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const config = loadStandaloneConfig(process.env);
  const mode = describeMode(config.mode);
  await assertPortFree(config.api.port);
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

  onStopSignals(config, async () => {
    await Promise.all([drainApiApp(api, config.api), workerService.drain()]);
    await worker.close();
    await runtime.close();
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

/**
 * First SIGINT/SIGTERM drains (and says so); a second one stops at once (and says so). Under
 * `npm start` one Ctrl-C arrives twice (from the terminal and forwarded by npm), so a repeat within
 * SAME_PRESS_MS of the first is the same press.
 */
const SAME_PRESS_MS = 500;
function onStopSignals(config: StandaloneConfig, drain: () => Promise<void>): void {
  let stoppingSince: number | undefined;
  const stop = async (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < SAME_PRESS_MS) return;
      say(stopNowMessage(signal));
      process.exit(128 + constants.signals[signal]);
    }
    stoppingSince = Date.now();
    say(drainMessage(signal, config.api.drainMs, config.worker.drainMs));
    const limit = Math.max(config.api.drainMs, config.worker.drainMs) + 15_000;
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, limit).unref();
    try {
      await drain();
      say('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  const line = startupFailureLine(error);
  if (line) process.stderr.write(`${line}\n`);
  else log.fatal({ err: error }, error instanceof Error ? error.message : 'startup failed');
  process.exit(1);
});
