import { Logger } from '@nestjs/common';
import { databaseErrorMessage } from '@sessionwire/events';
import type { Gauge } from 'prom-client';

export interface DatabaseHealthState {
  /** `down` from the first failed write or read until the next one that succeeds. */
  database: 'up' | 'down';
  /** When it went down (ISO time), while down. */
  since?: string;
  /** The last failure's message, while down. */
  error?: string;
}

/**
 * Whether this worker can reach Postgres, as its writes and reads find out: down at the first
 * failure (logged at `warn`, once), up again at the next success (logged with how long it took).
 * Shown by `sessionwire_worker_database_up` and the metrics server's `/healthz` and `/readyz`.
 */
export class DatabaseHealth {
  private static readonly log = new Logger('DatabaseHealth');
  private downSince?: number;
  private lastError?: string;

  constructor(private readonly up: Gauge) {
    up.set(1);
  }

  get state(): DatabaseHealthState {
    if (this.downSince === undefined) return { database: 'up' };
    return {
      database: 'down',
      since: new Date(this.downSince).toISOString(),
      error: this.lastError,
    };
  }

  failed(what: string, error: unknown): void {
    this.lastError = databaseErrorMessage(error);
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.up.set(0);
    DatabaseHealth.log.warn(
      `cannot reach Postgres (${what}: ${this.lastError}); writes are retried while leases last`,
    );
  }

  succeeded(): void {
    if (this.downSince === undefined) return;
    DatabaseHealth.log.warn(`Postgres reachable again after ${Date.now() - this.downSince} ms`);
    this.downSince = undefined;
    this.lastError = undefined;
    this.up.set(1);
  }
}
