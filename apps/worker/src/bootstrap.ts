import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { DatabaseHandle } from '@sessionwire/events';
import type { Broker } from '@sessionwire/transport/server';
import { Logger } from 'nestjs-pino';
import type { AgentFactory } from '@sessionwire/agents';
import type { WorkerConfig } from './config/worker-config';
import { WorkerModule } from './worker.module';

export interface WorkerRuntime {
  /** Owned by the caller: the worker never closes it. */
  database: DatabaseHandle;
  /** Owned by the caller: the worker never closes it. */
  broker: Broker;
}

export interface WorkerOptions {
  /** Extra agent runtimes by name, next to the built-in `demo` and `openai`. */
  agents?: Readonly<Record<string, AgentFactory>>;
  /** Collect the process's default metrics too (a worker process does; an embedding app may not). */
  defaultMetrics?: boolean;
}

/**
 * Builds a worker as a Nest application context (no HTTP routes). Nothing runs yet:
 * `app.get(WorkerService).start()` subscribes to work hints, starts claiming and (with
 * `METRICS_PORT`) serves `/metrics`; `.drain()` stops claiming, lets running turns finish for up to
 * `WORKER_DRAIN_MS`, interrupts the rest and releases every lease. `app.close()` drains first.
 * The database handle and the broker stay open: the caller owns them.
 */
export async function createWorker(
  config: WorkerConfig,
  runtime: WorkerRuntime,
  options: WorkerOptions = {},
): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot({ config, ...runtime, ...options }),
    { bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  return app;
}
