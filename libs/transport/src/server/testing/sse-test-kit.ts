import { createServer, get, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SseDecoder } from '../../../../../test/sse';
import type { SessionHead } from '../history';
import { serveSse, type SseStreamOptions } from '../sse-stream';
import type { StreamHub } from '../stream-hub';

export interface SseFrame {
  id?: string;
  event?: string;
  retry?: number;
  /** Parsed JSON of `data`. */
  data?: unknown;
}

/** An HTTP server on 127.0.0.1 whose every request is one stream: `/<sessionId>?after=N`. */
export interface HubServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `hub` over SSE with the head from `lookup` (as the API's stream route does after its 404
 * check): an unknown session (undefined) gets 404.
 */
export async function startHubServer(
  hub: StreamHub,
  lookup: (sessionId: string, cursor: number) => SessionHead | Promise<SessionHead | undefined>,
  sse: SseStreamOptions,
): Promise<HubServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const sessionId = url.pathname.slice(1);
    const lastEventId = req.headers['last-event-id'];
    const cursor = Number(
      typeof lastEventId === 'string' ? lastEventId : (url.searchParams.get('after') ?? 0),
    );
    void Promise.resolve(lookup(sessionId, cursor)).then((head) => {
      if (head) serveSse(hub, res, { sessionId, cursor, head }, sse);
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw SSE client: keeps every byte and every frame (decoded by test/sse.ts). */
export class SseClient {
  status = 0;
  headers: IncomingHttpHeaders = {};
  raw = '';
  readonly frames: SseFrame[] = [];
  readonly done: Promise<void>;
  private readonly request: ReturnType<typeof get>;
  private readonly decoder = new SseDecoder({
    // the server sends `retry:` in a block of its own: kept as a frame of its own
    onRetry: (retry) => this.frames.push({ retry }),
    onMessage: ({ id, event, data }) =>
      this.frames.push({
        ...(id !== undefined && { id }),
        ...(event !== undefined && { event }),
        data: JSON.parse(data),
      }),
  });

  constructor(url: string, headers: Record<string, string> = {}, options: { read?: boolean } = {}) {
    let finish!: () => void;
    this.done = new Promise((resolve) => (finish = resolve));
    this.request = get(url, { headers }, (res) => {
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      if (options.read === false) {
        res.pause();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        this.raw += chunk;
        this.decoder.feed(chunk);
      });
      res.on('close', finish);
      res.on('end', finish);
    });
    this.request.on('error', finish);
    this.request.on('close', finish);
  }

  /** Frames with an `event:` of the given name. */
  named(event: string): SseFrame[] {
    return this.frames.filter((frame) => frame.event === event);
  }

  /** Seqs of the stored events received, in order. */
  get seqs(): number[] {
    return this.frames
      .filter((frame) => frame.id !== undefined && frame.event !== 'gap')
      .map((frame) => Number(frame.id));
  }

  async waitFor(predicate: (client: this) => boolean, timeoutMs = 10_000): Promise<void> {
    await this.decoder.waitFor(
      'frames',
      () => predicate(this),
      timeoutMs,
      () => `frames: ${JSON.stringify(this.frames)}`,
      20,
    );
  }

  close(): void {
    this.request.destroy();
  }
}
