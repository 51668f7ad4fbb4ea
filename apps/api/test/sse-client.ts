import type { StoredEvent } from '@sessionwire/transport/protocol';

export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

const CONTROL = new Set(['gap', 'live', 'heartbeat', 'end']);

/**
 * A minimal SSE client over fetch for tests: keeps every frame, tracks the last id like
 * `EventSource`, and can be aborted mid-stream.
 */
export class SseClient {
  readonly frames: SseFrame[] = [];
  readonly retries: number[] = [];
  status = 0;
  headers?: Headers;
  lastEventId?: string;
  /** Resolves when the server ends the stream or it is aborted. */
  done: Promise<void> = Promise.resolve();
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const res = await fetch(url, { headers, signal: client.controller.signal });
    client.status = res.status;
    client.headers = res.headers;
    if (res.status === 200 && res.body) client.done = client.read(res.body);
    else await res.text();
    return client;
  }

  /** Stored events received, in arrival order. */
  events(): StoredEvent[] {
    return this.frames.filter((f) => !CONTROL.has(f.event)).map((f) => JSON.parse(f.data));
  }

  seqs(): number[] {
    return this.events().map((e) => e.seq);
  }

  control(event: string): unknown[] {
    return this.frames.filter((f) => f.event === event).map((f) => JSON.parse(f.data));
  }

  async waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; got ${JSON.stringify(this.frames.slice(-5))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  abort(): void {
    this.controller.abort();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        this.wake();
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    } finally {
      this.wake();
    }
  }

  private parse(block: string): void {
    const frame: SseFrame = { event: 'message', data: '' };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') frame.id = value;
      else if (field === 'event') frame.event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry') this.retries.push(Number(value));
    }
    if (frame.id !== undefined) this.lastEventId = frame.id;
    if (data.length === 0) return;
    frame.data = data.join('\n');
    this.frames.push(frame);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
