/** How a {@link ReadBatcher} gathers reads into queries. */
export interface ReadBatchOptions {
  /** Most total weight one query may carry (a batch always takes at least one read). */
  maxWeight?: number;
  /**
   * While reads keep arriving faster than queries finish (the last query carried more than one
   * read), a query is issued at most once per this many ms, so a storm gathers into few large
   * queries; a read that finds the batcher quiet is sent at once. 0 turns gathering off.
   */
  gatherMs?: number;
}

/**
 * The default {@link ReadBatchOptions.gatherMs}: Postgres' `commit_delay` idea applied to reads,
 * waiting a little only while others are waiting too.
 */
export const DEFAULT_GATHER_MS = 20;

interface PendingRead<T, R> {
  read: T;
  weight: number;
  promise: Promise<R>;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Reads of many keys served by few queries: at most one query in flight. Reads of one event-loop
 * turn (every request whose bytes arrived in one poll) join one query, dispatched once that
 * turn's I/O callbacks ran; reads that arrive while one is in flight wait and are served together
 * by the next one; reads of the same key share one entry. Under a storm (see
 * {@link ReadBatchOptions.gatherMs}) queries are spaced so that each gathers many reads. A read is
 * never served by a query issued before it arrived, so what it gets is at least as fresh as the
 * store was when it was asked.
 */
export class ReadBatcher<T, R> {
  private queued = new Map<string, PendingRead<T, R>>();
  private inFlight = false;
  private timer?: NodeJS.Timeout;
  private lastDispatchAt = 0;
  private lastBatchSize = 0;
  private readonly maxWeight: number;
  private readonly gatherMs: number;

  /** `query` answers its reads in their order. */
  constructor(
    private readonly query: (reads: T[]) => Promise<R[]>,
    options: ReadBatchOptions = {},
  ) {
    this.maxWeight = options.maxWeight ?? Infinity;
    this.gatherMs = options.gatherMs ?? DEFAULT_GATHER_MS;
  }

  read(key: string, read: T, weight = 1): Promise<R> {
    let entry = this.queued.get(key);
    if (!entry) {
      entry = pending(read, weight);
      this.queued.set(key, entry);
      // Not a microtask: that would send the first read of a storm alone.
      if (!this.inFlight && !this.timer && this.queued.size === 1) {
        setImmediate(() => this.dispatch());
      }
    }
    return entry.promise;
  }

  private dispatch(): void {
    if (this.inFlight || this.timer || this.queued.size === 0) return;
    const wait = this.lastDispatchAt + this.gatherMs - performance.now();
    if (this.lastBatchSize > 1 && wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.dispatch();
      }, wait);
      return;
    }
    const batch = this.take();
    this.inFlight = true;
    this.lastDispatchAt = performance.now();
    this.lastBatchSize = batch.length;
    this.query(batch.map((entry) => entry.read))
      .then(
        (results) => batch.forEach((entry, i) => entry.resolve(results[i])),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      )
      .finally(() => {
        this.inFlight = false;
        this.dispatch();
      });
  }

  private take(): PendingRead<T, R>[] {
    const batch: PendingRead<T, R>[] = [];
    let weight = 0;
    for (const [key, entry] of this.queued) {
      if (batch.length > 0 && weight + entry.weight > this.maxWeight) break;
      batch.push(entry);
      weight += entry.weight;
      this.queued.delete(key);
    }
    return batch;
  }
}

function pending<T, R>(read: T, weight: number): PendingRead<T, R> {
  let resolve!: (result: R) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<R>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { read, weight, promise, resolve, reject };
}
