import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { connectPostgres, type DatabaseHandle } from '@sessionwire/events';
import type { StoredEvent } from '@sessionwire/transport/protocol';
import { publishEvents, RedisBroker, type WorkHint } from '@sessionwire/transport/server';
import {
  createTestDatabase,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '../../../test/database';
import { hintWorkers, postAsApi } from '../../../test/api-side';
import { waitFor } from '../../../test/process';
import { createWorker, type WorkerOptions } from '../src/bootstrap';
import { loadWorkerConfig, type WorkerConfig } from '../src/config/worker-config';
import { WorkerMetrics } from '../src/metrics/worker-metrics';
import { WorkerService } from '../src/worker.service';

export interface TestWorker {
  app: INestApplicationContext;
  service: WorkerService;
  metrics: WorkerMetrics;
  config: WorkerConfig;
  /** Closes the worker (drain included), its broker and its pool. */
  close(): Promise<void>;
}

/**
 * Workers in this process, each with its own Postgres pool and Redis connections (as separate
 * processes would have), plus the API's side: posting messages, interrupts and ends, with the
 * same work hints the API publishes.
 */
export class WorkerHarness {
  readonly prefix = testRedisPrefix();
  private readonly workers: TestWorker[] = [];
  private api!: RedisBroker;

  private constructor(readonly db: TestDatabase) {}

  static async create(): Promise<WorkerHarness> {
    const harness = new WorkerHarness(await createTestDatabase());
    harness.api = harness.newBroker('api');
    return harness;
  }

  config(env: Record<string, string> = {}): WorkerConfig {
    return loadWorkerConfig(
      { LOG_LEVEL: 'warn', WORKER_ID: `w-${randomUUID().slice(0, 8)}`, ...env },
      { requireConnections: false },
    );
  }

  async startWorker(
    env: Record<string, string> = {},
    options?: WorkerOptions,
    databaseUrl = this.db.url,
  ): Promise<TestWorker> {
    const config = this.config(env);
    const database: DatabaseHandle = connectPostgres({
      url: databaseUrl,
      applicationName: 'sessionwire-worker',
      max: 10,
    });
    const broker = this.newBroker(config.workerId);
    const app = await createWorker(config, { database, broker }, options);
    const service = app.get(WorkerService);
    await service.start();
    let closed: Promise<void> | undefined;
    const worker: TestWorker = {
      app,
      service,
      config,
      metrics: app.get(WorkerMetrics),
      close: () =>
        (closed ??= (async () => {
          await app.close();
          await broker.close();
          await database.close();
        })()),
    };
    this.workers.push(worker);
    return worker;
  }

  async createSession(agent = 'demo'): Promise<string> {
    const session = await this.db.store.createSession({ id: randomUUID(), agent });
    return session.id;
  }

  /** As the API does: append the message, publish it, then hint the workers. */
  send(sessionId: string, content: string, clientMessageId = randomUUID()): Promise<number> {
    return postAsApi(this.db.store, this.api, sessionId, content, clientMessageId);
  }

  async interrupt(sessionId: string): Promise<string | null> {
    const { turnId, events } = await this.db.store.requestInterrupt(sessionId);
    await publishEvents(this.api, events);
    if (turnId) await this.hint({ kind: 'interrupt', sessionId, turnId });
    return turnId;
  }

  async end(sessionId: string): Promise<void> {
    const { events } = await this.db.leases.end(sessionId);
    await publishEvents(this.api, events);
    await this.hint({ kind: 'end', sessionId });
  }

  hint(hint: WorkHint): Promise<void> {
    return hintWorkers(this.api, hint);
  }

  async events(sessionId: string): Promise<StoredEvent[]> {
    return this.db.store.getEventsAfter(sessionId, 0, 100_000);
  }

  async turnsCompleted(sessionId: string): Promise<StoredEvent[]> {
    return (await this.events(sessionId)).filter((e) => e.type === 'turn.completed');
  }

  /** Waits until the session has `count` turn.completed events and returns the whole log. */
  async waitForTurns(sessionId: string, count: number, timeoutMs = 15_000): Promise<StoredEvent[]> {
    await waitFor(
      `${count} completed turns in ${sessionId}`,
      async () => (await this.turnsCompleted(sessionId)).length >= count,
      timeoutMs,
      20,
    );
    return this.events(sessionId);
  }

  /** Waits until some event matches and returns it. */
  async waitForEvent(
    sessionId: string,
    match: (event: StoredEvent) => boolean,
    timeoutMs = 15_000,
  ): Promise<StoredEvent> {
    let found: StoredEvent | undefined;
    await waitFor(
      `a matching event in ${sessionId}`,
      async () => {
        found = (await this.events(sessionId)).find(match);
        return found !== undefined;
      },
      timeoutMs,
      10,
    );
    return found!;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await this.api.close();
    await this.db.drop();
  }

  private newBroker(name: string): RedisBroker {
    return new RedisBroker({
      url: testRedisUrl(),
      prefix: this.prefix,
      connectionName: `test-${name}`,
      onError: (error, context) => {
        process.stderr.write(`test broker ${name}: ${context}: ${error.message}\n`);
      },
    });
  }
}

/** The reply text of a turn: its deltas, concatenated. */
export function deltasOf(events: StoredEvent[], turnId: string): string {
  return events
    .filter((e) => e.type === 'message.delta' && e.data.turnId === turnId)
    .map((e) => (e.data as { text: string }).text)
    .join('');
}
