import { Logger } from '@nestjs/common';
import type { LeaseStore, SessionRow } from '@sessionwire/events';
import { isDatabaseUnavailable } from '@sessionwire/events';
import type { WorkerConfig } from '../config/worker-config';
import type { DatabaseHealth } from '../health/database-health';
import type { WorkerMetrics } from '../metrics/worker-metrics';
import type { HeldSessions } from '../sessions/held-sessions';

const SWEEP_BATCH = 100;

/**
 * Lease bookkeeping of one worker: claiming sessions with pending input up to the concurrency,
 * renewing every held lease in one query, and detaching anyone's expired leases.
 */
export class LeaseKeeper {
  private static readonly log = new Logger(LeaseKeeper.name);

  constructor(
    private readonly config: WorkerConfig,
    private readonly leases: LeaseStore,
    private readonly metrics: WorkerMetrics,
    private readonly held: HeldSessions,
    private readonly health: DatabaseHealth,
  ) {}

  /** Claims what fits and hands each claimed row to `start`; true if there may be more. */
  async claim(start: (row: SessionRow) => void): Promise<boolean> {
    const capacity = this.config.concurrency - this.held.size;
    if (capacity <= 0) return false;
    const claimed = await this.reported('claim', () =>
      this.leases.claim(this.config.workerId, this.config.leaseMs, capacity),
    );
    if (claimed.length === 0) return false;
    this.metrics.leasesClaimed.inc(claimed.length);
    for (const change of claimed) start(change.session);
    return claimed.length === capacity;
  }

  /**
   * Extends every held lease in one query and drops the sessions whose lease is gone (an expired
   * lease is not extended). When renewing fails (Postgres away), a session whose lease may have
   * expired meanwhile is dropped too. Sessions given up (`live` false) are never renewed.
   */
  async renew(): Promise<void> {
    const runners = this.held.runners().filter((r) => r.live);
    if (runners.length === 0) return;
    let held: Set<string>;
    try {
      held = await this.leases.renew(
        this.config.workerId,
        runners.map((r) => r.lease),
        this.config.leaseMs,
      );
    } catch (error) {
      if (isDatabaseUnavailable(error)) this.health.failed('renew', error);
      else
        LeaseKeeper.log.error(
          `renewing ${runners.length} leases failed: ${(error as Error).message}`,
        );
      const now = Date.now();
      for (const runner of runners) {
        if (now >= runner.leaseDeadline) this.lose(runner, 'renew_failed');
      }
      return;
    }
    this.health.succeeded();
    const now = Date.now();
    for (const runner of runners) {
      if (held.has(runner.sessionId)) runner.lastRenewedAt = now;
      else if (runner.live && this.held.get(runner.sessionId) === runner)
        this.lose(runner, 'renew');
    }
  }

  /** Detaches expired leases of any worker (open turns → worker_lost); true if there may be more. */
  async sweep(onPendingInput: () => void): Promise<boolean> {
    const detached = await this.reported('sweep', () => this.leases.detachExpired(SWEEP_BATCH));
    if (detached.length === 0) return false;
    this.metrics.leasesDetached.inc(detached.length);
    for (const { session } of detached) {
      LeaseKeeper.log.warn(`detached session ${session.id}: lease expired`);
      const mine = this.held.get(session.id);
      if (mine) this.lose(mine, 'expired');
    }
    if (detached.some((d) => d.session.lastInputSeq > d.session.processedSeq)) onPendingInput();
    return detached.length === SWEEP_BATCH;
  }

  /**
   * Runs a query of the periodic tasks; Postgres being unreachable is reported to the health
   * state (logged once) and counts as nothing found, anything else is thrown.
   */
  async reported<T>(what: string, query: () => Promise<T[]>): Promise<T[]> {
    try {
      const rows = await query();
      this.health.succeeded();
      return rows;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      this.health.failed(what, error);
      return [];
    }
  }

  lose(runner: { sessionId: string; drop(): void }, cause: string): void {
    LeaseKeeper.log.warn(`lost the lease on session ${runner.sessionId} (${cause})`);
    this.metrics.leasesLost.inc({ cause });
    runner.drop();
  }
}
