import type { StoredEvent } from '@sessionwire/transport/protocol';
import { readSseBody, SseDecoder } from '../../../test/sse';

export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

const CONTROL = new Set(['gap', 'live', 'heartbeat', 'end']);

/**
 * A minimal SSE client over fetch for tests (frames decoded by test/sse.ts): keeps every frame,
 * tracks the last id like `EventSource`, and can be aborted mid-stream.
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
  private readonly decoder = new SseDecoder({
    onId: (id) => (this.lastEventId = id),
    onRetry: (ms) => this.retries.push(ms),
    onMessage: (m) => this.frames.push({ id: m.id, event: m.event ?? 'message', data: m.data }),
  });

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
    await this.decoder.waitFor(
      what,
      check,
      timeoutMs,
      () => `got ${JSON.stringify(this.frames.slice(-5))}`,
    );
  }

  abort(): void {
    this.controller.abort();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    await readSseBody(body, this.decoder);
  }
}
