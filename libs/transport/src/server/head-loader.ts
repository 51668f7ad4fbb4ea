import type { HistoryReader, SessionHead } from './history';

interface PendingHead {
  promise: Promise<SessionHead | undefined>;
  resolve(head: SessionHead | undefined): void;
  reject(error: unknown): void;
}

/**
 * Session heads from the log, batched: at most one `getHeads` in flight. Lookups of one event-loop
 * turn (every request whose bytes arrived in one poll) join one query, dispatched once that turn's
 * I/O callbacks ran; lookups that arrive while one is in flight wait and are served together by
 * the next one; lookups of the same id in one batch share one entry. A lookup is never served by a query issued before it arrived, so the head
 * it gets is at least as fresh as the log when it was asked (a cursor the client got from the log
 * is never above it).
 */
export class HeadLoader {
  private queued = new Map<string, PendingHead>();
  private inFlight = false;

  constructor(private readonly history: Pick<HistoryReader, 'getHeads'>) {}

  /** The session's head, or undefined when the session does not exist. */
  load(sessionId: string): Promise<SessionHead | undefined> {
    let entry = this.queued.get(sessionId);
    if (!entry) {
      entry = pendingHead();
      this.queued.set(sessionId, entry);
      // Not a microtask: that would send the first request of a storm alone.
      if (!this.inFlight && this.queued.size === 1) setImmediate(() => this.dispatch());
    }
    return entry.promise;
  }

  private dispatch(): void {
    if (this.inFlight || this.queued.size === 0) return;
    const batch = this.queued;
    this.queued = new Map();
    this.inFlight = true;
    this.history
      .getHeads([...batch.keys()])
      .then(
        (heads) => {
          for (const [id, entry] of batch) entry.resolve(heads.get(id));
        },
        (error: unknown) => {
          for (const entry of batch.values()) entry.reject(error);
        },
      )
      .finally(() => {
        this.inFlight = false;
        this.dispatch();
      });
  }
}

function pendingHead(): PendingHead {
  let resolve!: PendingHead['resolve'];
  let reject!: PendingHead['reject'];
  const promise = new Promise<SessionHead | undefined>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
