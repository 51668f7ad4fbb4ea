import { Logger } from '@nestjs/common';
import type { EventStore, Lease, LeaseStore, SessionRow } from '@sessionwire/events';
import type { AgentRegistry } from '@sessionwire/agents';
import type { DatabaseHealth } from '../health/database-health';
import type { WorkerMetrics } from '../metrics/worker-metrics';
import { LeaseLapsedError, LeaseLostError, SessionAppender } from '../turns/session-appender';
import { TurnRunner } from '../turns/turn-runner';

export interface SessionRunnerDeps {
  store: EventStore;
  leases: LeaseStore;
  registry: AgentRegistry;
  metrics: WorkerMetrics;
  health: DatabaseHealth;
  deltaFlushMs: number;
  idleReleaseMs: number;
  leaseMs: number;
}

/**
 * - `released`: gave the lease back (idle or draining); pending input stays claimable.
 * - `dropped`: the lease was lost (epoch moved on, session ended); nothing more was written.
 * - `abandoned`: an unexpected failure, or Postgres unreachable until the lease may have lapsed;
 *   the lease is never renewed again and left to expire, so a worker (this one or another)
 *   detaches it and closes an open turn as `worker_lost`.
 */
export type SessionExit = 'released' | 'dropped' | 'abandoned';

/**
 * Works one claimed session: STARTING → ACTIVE, then its pending `message.user` events one turn
 * at a time in seq order, until it has been idle for `idleReleaseMs` (→ SUSPENDED), it is drained,
 * or its lease is lost.
 */
export class SessionRunner {
  private static readonly log = new Logger(SessionRunner.name);
  readonly sessionId: string;
  readonly lease: Lease;
  /** When the lease was last confirmed (claim or renew), `Date.now()` ms. */
  lastRenewedAt = Date.now();
  /** Highest seq the interrupt poll has looked at. */
  scannedSeq: number;
  private processedSeq: number;
  private turn?: TurnRunner;
  private stopping?: 'drain' | 'drop';
  private releasing = false;
  private wakeFlag = false;
  private waiter?: () => void;
  private readonly appender: SessionAppender;

  constructor(
    private readonly deps: SessionRunnerDeps,
    private readonly row: SessionRow,
  ) {
    this.sessionId = row.id;
    this.lease = { sessionId: row.id, leaseEpoch: row.leaseEpoch };
    this.processedSeq = Number(row.processedSeq);
    this.scannedSeq = Number(row.headSeq);
    this.appender = new SessionAppender(
      deps,
      this.lease,
      Number(row.headSeq),
      () => this.leaseDeadline,
    );
  }

  /**
   * Until when the lease certainly holds (`Date.now()` ms): the last confirmation plus `LEASE_MS`.
   * Postgres set the expiry before the confirmation arrived, so past this it has expired.
   */
  get leaseDeadline(): number {
    return this.lastRenewedAt + this.deps.leaseMs;
  }

  /** The running turn's id, if a turn is running. */
  get turnId(): string | undefined {
    return this.turn?.turnId;
  }

  /** False once it is giving the lease back or has lost it (polls must not count it as lost). */
  get live(): boolean {
    return !this.releasing && this.stopping !== 'drop';
  }

  wake(): void {
    this.wakeFlag = true;
    this.waiter?.();
  }

  /** Interrupts the running turn if it is `turnId` (or any, without one). */
  interrupt(turnId?: string): boolean {
    const turn = this.turn;
    if (!turn || (turnId !== undefined && turn.turnId !== turnId)) return false;
    return turn.interrupt();
  }

  /** Stops at once and writes nothing more: the session is no longer ours. */
  drop(): void {
    if (this.stopping === 'drop') return;
    this.stopping = 'drop';
    this.appender.cancel();
    this.turn?.drop();
    this.wake();
  }

  /** Finishes the running turn (if any), starts no other, then releases. */
  drain(): void {
    this.stopping ??= 'drain';
    this.wake();
  }

  async run(): Promise<SessionExit> {
    try {
      // The first input is read while the transition commits: the claim found input pending.
      const nextInput = () =>
        this.appender.read((store) => store.getNextInput(this.sessionId, this.processedSeq));
      let first: ReturnType<typeof nextInput> | undefined = nextInput();
      first.catch(() => undefined);
      await this.appender.transition('STARTING', 'ACTIVE', 'worker_started');
      let idleSince = Date.now();
      while (!this.stopping) {
        this.wakeFlag = false;
        const input = await (first ?? nextInput());
        first = undefined;
        if (this.stopping) break;
        if (input) {
          await this.runTurn(input.seq, input.data.content);
          idleSince = Date.now();
          continue;
        }
        const idleLeft = idleSince + this.deps.idleReleaseMs - Date.now();
        if (idleLeft <= 0) break;
        await this.waitForWake(idleLeft);
      }
      if (this.stopping === 'drop') return 'dropped';
      return await this.release(this.stopping === 'drain' ? 'worker_draining' : 'idle');
    } catch (error) {
      const dropped = this.stopping === 'drop';
      // Nothing more is written and the lease is never renewed again (`live` is false).
      this.drop();
      if (error instanceof LeaseLostError) {
        if (!dropped) this.deps.metrics.leasesLost.inc({ cause: 'append' });
        SessionRunner.log.warn(error.message);
        return 'dropped';
      }
      if (error instanceof LeaseLapsedError) {
        this.deps.metrics.leasesLost.inc({ cause: 'unavailable' });
        SessionRunner.log.warn(error.message);
        return 'abandoned';
      }
      SessionRunner.log.error(
        `session ${this.sessionId} abandoned (its lease will expire): ${(error as Error).stack ?? error}`,
      );
      return 'abandoned';
    }
  }

  private async runTurn(seq: number, content: string): Promise<void> {
    const { store, registry, metrics, deltaFlushMs } = this.deps;
    const turn = new TurnRunner(
      { store, registry, metrics, deltaFlushMs },
      this.appender,
      { sessionId: this.sessionId, agent: this.row.agent, metadata: this.row.metadata },
      { seq, content },
    );
    this.turn = turn;
    try {
      const end = await turn.run();
      if (end === 'skipped') {
        // Its turn was closed without us: re-read how far input is processed, go on from there.
        const row = await this.appender.read((s) => s.requireSession(this.sessionId));
        this.processedSeq = Math.max(seq, Number(row.processedSeq));
        SessionRunner.log.log(
          `input ${seq} of session ${this.sessionId} was closed before its turn`,
        );
      } else if (end !== 'dropped') {
        this.processedSeq = seq;
      }
    } finally {
      this.turn = undefined;
    }
  }

  private async release(reason: string): Promise<SessionExit> {
    this.releasing = true;
    try {
      await this.appender.release(reason);
      this.deps.metrics.leasesReleased.inc({ reason });
      return 'released';
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error;
      this.deps.metrics.leasesLost.inc({ cause: 'release' });
      return 'dropped';
    }
  }

  private waitForWake(timeoutMs: number): Promise<void> {
    if (this.wakeFlag || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiter = done;
    });
  }
}
