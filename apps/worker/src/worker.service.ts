import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { EventStore, LeaseStore, type SessionRow } from '@sessionwire/events';
import { BROKER, type Broker } from '@sessionwire/transport/server';
import { AgentRegistry } from '@sessionwire/agents';
import { WORKER_CONFIG, type WorkerConfig } from './config/worker-config';
import { WorkHintListener } from './hints/work-hint-listener';
import { DatabaseHealth } from './health/database-health';
import { LeaseKeeper } from './leases/lease-keeper';
import { MetricsServer } from './metrics/metrics-server';
import { WorkerMetrics } from './metrics/worker-metrics';
import { HeldSessions } from './sessions/held-sessions';
import { PeriodicTask } from './sessions/periodic-task';
import { SessionPoller } from './sessions/session-poller';
import { SessionRunner, type SessionRunnerDeps } from './sessions/session-runner';

/** Time left for interrupted turns to close and leases to be released at the end of a drain. */
const DRAIN_CLOSE_MS = 5_000;

/**
 * One worker: claims sessions with pending input, runs their turns, keeps their leases, and on
 * drain stops claiming, lets running turns finish for up to `drainMs`, interrupts the rest and
 * releases every lease. It never touches sessions it does not hold (no clean-up at start).
 */
@Injectable()
export class WorkerService implements BeforeApplicationShutdown {
  private readonly log = new Logger(WorkerService.name);
  readonly held: HeldSessions;
  /** Whether this worker's writes and reads reach Postgres. */
  readonly health: DatabaseHealth;
  private readonly keeper: LeaseKeeper;
  private readonly poller: SessionPoller;
  private readonly hints: WorkHintListener;
  private readonly claimTask: PeriodicTask;
  private readonly renewTask: PeriodicTask;
  private readonly sweepTask: PeriodicTask;
  private readonly pollTask: PeriodicTask;
  private readonly runnerDeps: SessionRunnerDeps;
  private started = false;
  private draining?: Promise<void>;
  private metricsServer?: MetricsServer;
  private boundMetricsPort?: number;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(BROKER) private readonly broker: Broker,
    store: EventStore,
    leases: LeaseStore,
    registry: AgentRegistry,
    private readonly metrics: WorkerMetrics,
  ) {
    this.held = new HeldSessions(metrics);
    this.health = new DatabaseHealth(metrics.databaseUp);
    this.keeper = new LeaseKeeper(config, leases, metrics, this.held, this.health);
    this.poller = new SessionPoller(store, this.held, this.keeper);
    this.runnerDeps = {
      store,
      leases,
      registry,
      metrics,
      health: this.health,
      deltaFlushMs: config.deltaFlushMs,
      idleReleaseMs: config.idleReleaseMs,
      leaseMs: config.leaseMs,
    };
    this.claimTask = new PeriodicTask('claim', config.pollMs, () =>
      this.keeper.claim((row) => this.startSession(row)),
    );
    this.renewTask = new PeriodicTask('renew', Math.max(50, config.leaseMs / 3), () =>
      this.keeper.renew(),
    );
    this.sweepTask = new PeriodicTask('sweep', Math.max(50, config.leaseMs / 2), () =>
      this.keeper.sweep(() => this.claimTask.wake()),
    );
    this.pollTask = new PeriodicTask('poll', config.pollMs, () => this.poller.poll());
    this.hints = new WorkHintListener(broker, this.held, this.keeper, {
      claim: () => this.claimTask.wake(),
      resync: () => {
        this.claimTask.wake();
        this.pollTask.wake();
      },
    });
  }

  get id(): string {
    return this.config.workerId;
  }

  get isDraining(): boolean {
    return this.draining !== undefined;
  }

  /** The metrics server's bound port once started (`METRICS_PORT` set), else undefined. */
  get metricsPort(): number | undefined {
    return this.boundMetricsPort;
  }

  /** Subscribes to work hints, starts claiming and, with `METRICS_PORT`, serves `/metrics`. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.config.metricsPort !== undefined) {
      this.metricsServer = new MetricsServer(this.metrics.registry, () => this.health.state);
      this.boundMetricsPort = await this.metricsServer.listen(this.config.metricsPort);
    }
    await this.hints.start();
    this.renewTask.start();
    this.sweepTask.start();
    this.pollTask.start();
    this.claimTask.start();
    this.log.log(
      `worker ${this.id} started (concurrency ${this.config.concurrency}, lease ${this.config.leaseMs} ms)`,
    );
  }

  /** Stops claiming, finishes or interrupts running turns, releases every lease. Idempotent. */
  drain(): Promise<void> {
    this.draining ??= this.runDrain();
    return this.draining;
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.started) await this.drain();
    await this.metricsServer?.close();
  }

  private async runDrain(): Promise<void> {
    const startedAt = Date.now();
    this.log.log(`worker ${this.id} draining ${this.held.size} sessions`);
    await Promise.all([this.claimTask.stop(), this.sweepTask.stop()]);
    for (const runner of this.held.runners()) runner.drain();
    if (!(await this.held.settled(this.config.drainMs))) {
      const busy = this.held.runners();
      this.log.warn(`interrupting ${busy.length} turns still running after the drain period`);
      for (const runner of busy) runner.interrupt();
      if (!(await this.held.settled(DRAIN_CLOSE_MS))) {
        for (const runner of this.held.runners()) this.keeper.lose(runner, 'drain_timeout');
        await this.held.settled(DRAIN_CLOSE_MS);
      }
    }
    await Promise.all([this.renewTask.stop(), this.pollTask.stop(), this.hints.stop()]);
    this.log.log(`worker ${this.id} drained in ${Date.now() - startedAt} ms`);
  }

  private startSession(row: SessionRow): void {
    // Claimed again while an old runner still thinks it holds the session: that lease is stale.
    const stale = this.held.get(row.id);
    if (stale) this.keeper.lose(stale, 'reclaimed');
    const runner = new SessionRunner(this.runnerDeps, row);
    this.held.add(runner, (exit) => {
      this.log.debug(`session ${row.id} ${exit}`);
      if (!this.isDraining) this.claimTask.wake();
    });
  }
}
