import {
  encodeControlFrame,
  encodeEventFrame,
  type ControlFrame,
  type StoredEvent,
} from '../../protocol';

export interface FakeRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
  signal?: AbortSignal;
}

type Reply = Response | 'network-error' | 'hang';
type Handler = (request: FakeRequest) => Reply | Promise<Reply>;

/** An SSE response body the test writes to by hand; the client's abort errors it. */
export class SseBody {
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private readonly encoder = new TextEncoder();
  done = false;

  constructor() {
    this.stream = new ReadableStream({ start: (c) => void (this.controller = c) });
  }

  push(text: string): void {
    if (!this.done) this.controller.enqueue(this.encoder.encode(text));
  }

  /** Writes raw bytes (a chunk may end inside a UTF-8 character or a line). */
  pushBytes(bytes: Uint8Array): void {
    if (!this.done) this.controller.enqueue(bytes);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.controller.close();
  }

  fail(error: Error = new TypeError('network connection lost')): void {
    if (this.done) return;
    this.done = true;
    this.controller.error(error);
  }
}

/** A scripted server behind a fake `fetch`: each request takes the next handler in the queue. */
export class FakeServer {
  readonly requests: FakeRequest[] = [];
  private readonly handlers: Handler[] = [];

  constructor(private readonly fallback: Handler = () => 'network-error') {}

  readonly fetch: typeof fetch = async (input, init) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => (headers[key] = value));
    const request: FakeRequest = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      signal: init?.signal ?? undefined,
    };
    this.requests.push(request);
    const handler = this.handlers.shift() ?? this.fallback;
    const reply = await handler(request);
    if (reply === 'network-error') throw new TypeError('fetch failed');
    if (reply === 'hang') {
      return new Promise<Response>((_, reject) => {
        const abort = () => reject(new DOMException('aborted', 'AbortError'));
        if (request.signal?.aborted) abort();
        request.signal?.addEventListener('abort', abort, { once: true });
      });
    }
    return reply;
  };

  /** Queues handlers for the next requests, in order. */
  reply(...handlers: (Handler | Reply)[]): this {
    for (const h of handlers) this.handlers.push(typeof h === 'function' ? h : () => h);
    return this;
  }

  /** Queues one SSE response and returns its body, which the test then writes. */
  sse(status = 200): SseBody {
    const body = new SseBody();
    this.reply((request) => {
      request.signal?.addEventListener('abort', () =>
        body.fail(new DOMException('aborted', 'AbortError')),
      );
      return new Response(body.stream, {
        status,
        headers: { 'content-type': 'text/event-stream; charset=utf-8' },
      });
    });
    return body;
  }

  get queued(): number {
    return this.handlers.length;
  }
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': type, ...headers },
  });
}

export function problem(
  status: number,
  code: string,
  headers: Record<string, string> = {},
): Response {
  return json(
    status,
    { type: 'about:blank', title: code, status, detail: `${code} detail`, code },
    headers,
  );
}

export const SESSION_ID = '0190f0c4-0000-7000-8000-000000000001';

/** A stored `message.delta` (or the given payload) with `seq`, as the store would write it. */
export function storedEvent(seq: number, event?: Pick<StoredEvent, 'type' | 'data'>): StoredEvent {
  const body = event ?? { type: 'message.delta', data: { turnId: 't1', text: `x${seq}` } };
  return {
    sessionId: SESSION_ID,
    seq,
    createdAt: new Date(0).toISOString(),
    ...body,
  } as StoredEvent;
}

export function eventFrame(seq: number, event?: Pick<StoredEvent, 'type' | 'data'>): string {
  return encodeEventFrame(storedEvent(seq, event));
}

export function controlFrame(frame: ControlFrame): string {
  return encodeControlFrame(frame);
}
