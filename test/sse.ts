import { createParser, type EventSourceMessage } from 'eventsource-parser';

export type { EventSourceMessage } from 'eventsource-parser';

export interface SseCallbacks {
  /** A frame with data, as eventsource-parser gives it (`event` undefined when not named). */
  onMessage?: (message: EventSourceMessage) => void;
  /** A `retry:` field. */
  onRetry?: (ms: number) => void;
  /** The `id:` of a block, whether or not it carried data. */
  onId?: (id: string) => void;
}

/**
 * The one SSE decoder of the tests: bytes or text of a `text/event-stream` in, frames out through
 * eventsource-parser, and waits that wake on every chunk fed (no fixed sleep). Each test client
 * keeps the frames in the shape its assertions read.
 */
export class SseDecoder {
  private readonly parser;
  private readonly decoder = new TextDecoder();
  private waiters: (() => void)[] = [];

  constructor(callbacks: SseCallbacks) {
    this.parser = createParser({
      onEvent: callbacks.onMessage,
      onRetry: callbacks.onRetry,
      onId: callbacks.onId,
    });
  }

  /** Feeds one chunk (a partial frame is kept for the next one), then wakes the waits. */
  feed(chunk: Uint8Array | string): void {
    this.parser.feed(
      typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }),
    );
    this.wake();
  }

  /** Wakes the waits without data (the stream ended or failed). */
  wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /**
   * Resolves once `check` holds, re-checked after every chunk and at least every `pollMs`; after
   * `timeoutMs` throws with `what` and `detail()` (e.g. the last frames).
   */
  async waitFor(
    what: string,
    check: () => boolean,
    timeoutMs: number,
    detail: () => string = () => '',
    pollMs = 200,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; ${detail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, pollMs));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/**
 * Reads a fetch body into `decoder` until the body ends or `stop()` is true after a chunk; an
 * abort of the request ends the read quietly. Returns true when `stop()` ended it.
 */
export async function readSseBody(
  body: ReadableStream<Uint8Array>,
  decoder: SseDecoder,
  stop: () => boolean = () => false,
): Promise<boolean> {
  try {
    for await (const chunk of body) {
      decoder.feed(chunk);
      if (stop()) return true;
    }
    return false;
  } catch (error) {
    if ((error as Error).name === 'AbortError') return false;
    throw error;
  } finally {
    decoder.wake();
  }
}
