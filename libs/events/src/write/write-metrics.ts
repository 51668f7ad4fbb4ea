import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PoolStats } from '../database';
import type { WriteObserver } from './write-pipeline';

/**
 * Prometheus metrics of the write pipeline and the connection pool, on an app's registry:
 * queue depth and wait (what a burst looks like from inside), commit sizes, durations and
 * outcomes, and the pool's connections and waiting requests.
 */
export class WriteMetrics implements WriteObserver {
  private readonly queueDepth: Gauge;
  private readonly wait: Histogram;
  private readonly batchSize: Histogram;
  private readonly commitSeconds: Histogram;
  private readonly commits: Counter<'path' | 'outcome'>;

  constructor(registry: Registry, poolStats?: () => PoolStats | undefined) {
    const registers = [registry];
    this.queueDepth = new Gauge({
      name: 'sessionwire_write_queue_depth',
      help: 'Writes submitted and not yet answered (waiting for a commit or in one)',
      registers,
    });
    this.wait = new Histogram({
      name: 'sessionwire_write_wait_seconds',
      help: 'Time from a write’s submission to its answer (queue wait plus commit)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'sessionwire_write_batch_size',
      help: 'Writes per commit (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'sessionwire_write_commit_seconds',
      help: 'Duration of one commit (statement or transaction)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    this.commits = new Counter({
      name: 'sessionwire_write_commits_total',
      help: 'Commits by path (statement: one statement; locked: one transaction) and outcome',
      labelNames: ['path', 'outcome'] as const,
      registers,
    });
    if (poolStats) {
      const gauge = (name: string, help: string, read: (s: PoolStats) => number) =>
        new Gauge({
          name,
          help,
          registers,
          collect() {
            const stats = poolStats();
            if (stats) this.set(read(stats));
          },
        });
      gauge(
        'sessionwire_db_pool_connections',
        'Open Postgres connections of the pool',
        (s) => s.total,
      );
      gauge('sessionwire_db_pool_idle', 'Idle Postgres connections of the pool', (s) => s.idle);
      gauge(
        'sessionwire_db_pool_waiting',
        'Requests waiting for a pooled connection',
        (s) => s.waiting,
      );
    }
  }

  depth(writes: number): void {
    this.queueDepth.set(writes);
  }

  committed(
    writes: number,
    path: 'statement' | 'locked',
    outcome: 'ok' | 'failed',
    seconds: number,
  ): void {
    this.batchSize.observe(writes);
    this.commitSeconds.observe(seconds);
    this.commits.inc({ path, outcome });
  }

  waited(seconds: number): void {
    this.wait.observe(seconds);
  }
}
