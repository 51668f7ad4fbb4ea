import type { ServerResponse } from 'node:http';
import type { StreamMetrics } from './stream-metrics';

/**
 * Batches writes: writers that queued chunks during this event-loop turn are flushed together in
 * one `setImmediate`, each with a single `write()`. One per process (or per front end).
 */
export class FlushScheduler {
  private dirty = new Set<StreamWriter>();
  private timer: NodeJS.Immediate | undefined;

  schedule(writer: StreamWriter): void {
    this.dirty.add(writer);
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
    for (const writer of due) writer.flush();
  }
}

/** What every writer of a front end shares (one object, made once). */
export interface StreamWriterOptions {
  scheduler: FlushScheduler;
  metrics: StreamMetrics;
  /** STREAM_MAX_BUFFER_BYTES: a response with more unsent bytes is destroyed. */
  maxBufferBytes: number;
}

const WRITER = Symbol('sessionwire.streamWriter');
type WrittenResponse = ServerResponse & { [WRITER]?: StreamWriter };

/** Shared listeners: Node calls them with the response as `this`, so no writer needs a closure. */
function onResponseClose(this: WrittenResponse): void {
  this[WRITER]?.handleClose();
}
function onResponseDrain(this: WrittenResponse): void {
  this[WRITER]?.handleDrain();
}

/**
 * One client's long-lived response, whatever bytes a front end writes on it (SSE frames, AI SDK
 * chunks). Chunks queued in one event-loop turn leave in one `write()`; after a `write()` returns
 * false nothing more is written until `drain`. When the unsent bytes (the response's and socket's
 * buffers, plus the queue) pass `maxBufferBytes` plus the largest chunk it was given, the
 * response is destroyed: the client resumes
 * from its last id elsewhere, and memory stays bounded. An idle writer holds no closure, timer or
 * promise: the response's events reach it through shared listeners, and a subclass learns of the
 * close through {@link closed}.
 */
export class StreamWriter {
  private queue: Buffer[] | undefined;
  private queuedBytes = 0;
  private largestChunk = 0;
  private stamps: number[] | undefined;
  private waitingDrain = false;
  private ending = false;
  private open: boolean;

  constructor(
    readonly response: ServerResponse,
    protected readonly options: StreamWriterOptions,
  ) {
    // A response whose client already left never emits `close` again.
    this.open = !response.closed && !response.destroyed;
    (response as WrittenResponse)[WRITER] = this;
    response.on('close', onResponseClose); // `close` comes once; `once` would wrap the listener
  }

  /** True until the writer is ending or the response closed. */
  get isOpen(): boolean {
    return this.open && !this.ending;
  }

  /** Bytes accepted but not yet sent to the client. */
  get unsentBytes(): number {
    return this.response.writableLength + this.queuedBytes;
  }

  /** Queues a chunk; `createdAtMs` marks an event's chunk for the publish-to-write timing. */
  send(chunk: Buffer, createdAtMs?: number): void {
    if (!this.isOpen) return;
    (this.queue ??= []).push(chunk);
    this.queuedBytes += chunk.length;
    this.largestChunk = Math.max(this.largestChunk, chunk.length);
    if (createdAtMs !== undefined) (this.stamps ??= []).push(createdAtMs);
    // The cap leaves room for one frame on top: a frame larger than the cap still reaches a
    // reader that keeps up, instead of cutting it again at the same frame on every resume.
    if (this.unsentBytes > this.options.maxBufferBytes + this.largestChunk) {
      this.options.metrics.slowClientClosed();
      this.destroy();
      return;
    }
    this.options.scheduler.schedule(this);
  }

  /** Writes everything queued in one `write()` (called by the scheduler). */
  flush(): void {
    if (!this.open || this.waitingDrain) return;
    const { queue, stamps } = this;
    if (queue) {
      this.queue = undefined;
      this.stamps = undefined;
      this.queuedBytes = 0;
      this.waitingDrain = !this.response.write(
        queue.length === 1 ? queue[0] : Buffer.concat(queue),
      );
      if (this.waitingDrain) this.response.once('drain', onResponseDrain);
      if (stamps) {
        const now = Date.now();
        for (const stamp of stamps) this.options.metrics.publishToWrite((now - stamp) / 1000);
      }
    }
    if (this.ending && !this.waitingDrain && !this.response.writableEnded) this.response.end();
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
    this.queue = undefined;
    this.response.destroy();
  }

  /** The response closed, for whatever reason (called once). */
  protected closed(): void {}

  /** @internal the response's `close` event. */
  handleClose(): void {
    this.open = false;
    this.queue = undefined;
    this.queuedBytes = 0;
    this.stamps = undefined;
    this.closed();
  }

  /** @internal the response's `drain` event. */
  handleDrain(): void {
    this.waitingDrain = false;
    this.flush();
  }
}
