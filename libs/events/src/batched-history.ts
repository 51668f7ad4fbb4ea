import type { StoredEvent } from '@sessionwire/transport/protocol';
import type { HistoryReader, SessionHead } from '@sessionwire/transport/server';
import type { EventStore, EventsAfter } from './event-store';

interface PendingRead extends EventsAfter {
  promise: Promise<StoredEvent[]>;
  resolve(events: StoredEvent[]): void;
  reject(error: unknown): void;
}

/** Most events one batched query may return (the sum of its reads' limits). */
const MAX_ROWS_PER_QUERY = 50_000;

/**
 * The stream engine's {@link HistoryReader} on the event store, with reads batched across
 * sessions: at most one `getEventsAfterMany` query in flight; reads that arrive meanwhile wait and
 * are served together by the next one (identical reads share an entry), so a reconnect storm of
 * distinct sessions costs about what one of identical cursors costs. A read is never served by a
 * query issued before it arrived, so it sees the log at least as fresh as when it was asked.
 * Each read returns exactly what `getEventsAfter` would.
 */
export class BatchedEventReader implements HistoryReader {
  private queued = new Map<string, PendingRead>();
  private inFlight = false;

  constructor(
    private readonly store: Pick<EventStore, 'getEventsAfterMany' | 'getHeads'>,
    private readonly maxRows = MAX_ROWS_PER_QUERY,
  ) {}

  getEventsAfter(sessionId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    if (limit <= 0) return Promise.resolve([]);
    const key = `${sessionId}:${afterSeq}:${limit}`;
    let entry = this.queued.get(key);
    if (!entry) {
      entry = pendingRead({ sessionId, afterSeq, limit });
      this.queued.set(key, entry);
      // Reads of the same event-loop turn (every request whose bytes arrived in one poll) join one
      // query: dispatched once that turn's I/O callbacks ran, not after the first of them.
      if (!this.inFlight && this.queued.size === 1) setImmediate(() => this.dispatch());
    }
    return entry.promise;
  }

  getHeads(sessionIds: readonly string[]): Promise<Map<string, SessionHead>> {
    return this.store.getHeads(sessionIds);
  }

  private dispatch(): void {
    if (this.inFlight || this.queued.size === 0) return;
    const batch: PendingRead[] = [];
    let rows = 0;
    for (const [key, entry] of this.queued) {
      if (batch.length > 0 && rows + entry.limit > this.maxRows) break;
      batch.push(entry);
      rows += entry.limit;
      this.queued.delete(key);
    }
    this.inFlight = true;
    this.store
      .getEventsAfterMany(batch)
      .then(
        (results) => batch.forEach((entry, i) => entry.resolve(results[i])),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      )
      .finally(() => {
        this.inFlight = false;
        this.dispatch();
      });
  }
}

function pendingRead(read: EventsAfter): PendingRead {
  let resolve!: PendingRead['resolve'];
  let reject!: PendingRead['reject'];
  const promise = new Promise<StoredEvent[]>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { ...read, promise, resolve, reject };
}
