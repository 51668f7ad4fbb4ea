import type { ServerResponse } from 'node:http';
import type { StreamMetrics } from './stream-metrics';

/** Response headers of every stream (PROTOCOL §4). No compression. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
};

/**
 * Batches writes: connections that queued frames during this event-loop turn are flushed together
 * in one `setImmediate`, each with a single `write()`.
 */
export class FlushScheduler {
  private dirty = new Set<SseConnection>();
  private timer: NodeJS.Immediate | undefined;

  schedule(connection: SseConnection): void {
    this.dirty.add(connection);
    this.timer ??= setImmediate(() => this.run());
  }

  cancel(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    this.dirty.clear();
  }

  private run(): void {
    this.timer = undefined;
    const due = this.dirty;
    this.dirty = new Set();
    for (const connection of due) connection.flush();
  }
}

export interface SseConnectionOptions {
  maxBufferBytes: number;
  scheduler: FlushScheduler;
  metrics: StreamMetrics;
  /** Bytes held for this stream outside the connection (e.g. events buffered during a resume). */
  extraBytes?: () => number;
}

/**
 * One client's SSE response. Frames queued in one event-loop turn leave in one `write()`; after a
 * `write()` returns false nothing more is written until `drain`. When the unsent bytes (the
 * response's and socket's buffers, plus the queue) pass `maxBufferBytes`, the response is
 * destroyed: the client resumes from its last id elsewhere, and memory stays bounded.
 */
export class SseConnection {
  /** Resolves once the response is closed, for whatever reason. */
  readonly closed: Promise<void>;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private stamps: number[] = [];
  private waitingDrain = false;
  private ending = false;
  private open = true;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseConnectionOptions,
  ) {
    this.closed = new Promise((resolve) => {
      res.once('close', () => {
        this.open = false;
        this.queue = [];
        this.queuedBytes = 0;
        this.stamps = [];
        resolve();
      });
    });
    res.on('drain', () => {
      this.waitingDrain = false;
      this.flush();
    });
  }

  get isOpen(): boolean {
    return this.open && !this.ending;
  }

  /** Bytes accepted but not yet sent to the client. */
  get unsentBytes(): number {
    return this.res.writableLength + this.queuedBytes + (this.options.extraBytes?.() ?? 0);
  }

  /** Queues a frame; `createdAtMs` marks an event frame for the publish-to-write timing. */
  send(frame: Buffer, createdAtMs?: number): void {
    if (!this.isOpen) return;
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (createdAtMs !== undefined) this.stamps.push(createdAtMs);
    if (this.checkBuffer()) this.options.scheduler.schedule(this);
  }

  /** Closes the stream if its unsent bytes passed the limit; returns whether it is still open. */
  checkBuffer(): boolean {
    if (!this.open) return false;
    if (this.unsentBytes <= this.options.maxBufferBytes) return true;
    this.options.metrics.slowClientClosed();
    this.destroy();
    return false;
  }

  /** Writes everything queued in one `write()` (called by the scheduler). */
  flush(): void {
    if (!this.open || this.waitingDrain) return;
    if (this.queue.length > 0) {
      const chunk = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue);
      const stamps = this.stamps;
      this.queue = [];
      this.queuedBytes = 0;
      this.stamps = [];
      this.waitingDrain = !this.res.write(chunk);
      const now = Date.now();
      for (const stamp of stamps) this.options.metrics.publishToWrite((now - stamp) / 1000);
    }
    if (this.ending && !this.waitingDrain && !this.res.writableEnded) this.res.end();
  }

  /** Sends what is queued, then ends the response. */
  end(): void {
    if (!this.open || this.ending) return;
    this.ending = true;
    this.options.scheduler.schedule(this);
  }

  destroy(): void {
    if (!this.open) return;
    this.open = false;
    this.res.destroy();
  }
}
