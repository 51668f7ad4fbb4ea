import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one worker, on a registry of its own (several workers may share a process). */
export class WorkerMetrics {
  readonly registry = new Registry();

  readonly turnsRunning = new Gauge({
    name: 'sessionwire_worker_turns_running',
    help: 'Turns currently running on this worker',
    registers: [this.registry],
  });
  readonly sessionsHeld = new Gauge({
    name: 'sessionwire_worker_sessions_held',
    help: 'Sessions whose lease this worker holds',
    registers: [this.registry],
  });
  readonly turnDuration = new Histogram({
    name: 'sessionwire_worker_turn_duration_seconds',
    help: 'Time from turn.started to turn.completed, by stop reason',
    labelNames: ['stop_reason'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly firstDelta = new Histogram({
    name: 'sessionwire_worker_turn_first_delta_seconds',
    help: 'Time from turn.started to the first text the agent produced',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly interruptLatency = new Histogram({
    name: 'sessionwire_worker_interrupt_latency_seconds',
    help: 'Time from an interrupt reaching the worker to its turn.completed being committed',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly leasesClaimed = new Counter({
    name: 'sessionwire_worker_leases_claimed_total',
    help: 'Sessions claimed',
    registers: [this.registry],
  });
  readonly leasesReleased = new Counter({
    name: 'sessionwire_worker_leases_released_total',
    help: 'Leases given up, by reason (idle, draining)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly leasesLost = new Counter({
    name: 'sessionwire_worker_leases_lost_total',
    help: 'Leases lost, by how it was noticed (renew, append, ended, poll, unavailable)',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });
  readonly leasesDetached = new Counter({
    name: 'sessionwire_worker_expired_leases_detached_total',
    help: 'Expired leases of any worker that this worker detached (worker_lost)',
    registers: [this.registry],
  });
  readonly appends = new Counter({
    name: 'sessionwire_worker_appends_total',
    help: 'Append transactions, by outcome (ok, refused, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly eventsAppended = new Counter({
    name: 'sessionwire_worker_events_appended_total',
    help: 'Events appended, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly writeRetries = new Counter({
    name: 'sessionwire_worker_write_retries_total',
    help: 'Writes and reads of held sessions attempted again because Postgres was unreachable',
    registers: [this.registry],
  });
  readonly databaseUp = new Gauge({
    name: 'sessionwire_worker_database_up',
    help: '1 while the last write or read reached Postgres, 0 from a failure until the next success',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
