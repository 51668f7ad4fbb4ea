import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';

export interface StaticFile {
  path: string;
  type: string;
}

export interface ClientTestProxyOptions {
  /** Files served by path (e.g. `/` → a page, `/sdk/index.mjs` → the bundle). */
  files?: Record<string, StaticFile>;
  /**
   * Requests for which the upstream's answer is lost: the request reaches the API and is answered
   * there, then the connection to the client is cut before any byte of the answer (a lost response).
   */
  loseResponse?: (req: IncomingMessage) => boolean;
}

/**
 * A same-origin front for SDK tests: serves static files and forwards everything else to one API
 * node, streaming responses as they arrive (SSE-safe). While the node is down it answers 502, as a
 * reverse proxy would. `setUpstream` points it elsewhere.
 */
export class ClientTestProxy {
  private readonly server: Server;
  /** Requests forwarded, as `METHOD path`. */
  readonly forwarded: string[] = [];
  private readonly streaming = new Set<{ upRes: IncomingMessage; res: ServerResponse }>();

  constructor(
    private upstream: string,
    private readonly options: ClientTestProxyOptions = {},
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  setUpstream(upstream: string): void {
    this.upstream = upstream;
  }

  /**
   * Stops passing bytes on every response in progress while keeping both connections open: to
   * the client it looks like a silent network (no FIN, no RST). New requests are unaffected.
   */
  freezeOpenResponses(): number {
    const frozen = this.streaming.size;
    for (const { upRes, res } of this.streaming) {
      upRes.unpipe(res);
      upRes.resume();
    }
    this.streaming.clear();
    return frozen;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const file = this.options.files?.[path];
    if (file && req.method === 'GET') {
      const body = await readFile(file.path);
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(body);
      return;
    }
    this.forward(req, res);
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const target = new URL(req.url ?? '/', this.upstream);
    this.forwarded.push(`${req.method} ${target.pathname}`);
    const lose = this.options.loseResponse?.(req) ?? false;
    const upstream = request(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (upRes) => {
        if (lose) {
          upRes.resume();
          upRes.on('end', () => res.socket?.destroy());
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        res.flushHeaders();
        res.socket?.setNoDelay(true);
        upRes.pipe(res);
        const entry = { upRes, res };
        this.streaming.add(entry);
        upRes.on('close', () => {
          this.streaming.delete(entry);
          if (!upRes.complete) res.destroy();
        });
      },
    );
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-type': 'text/plain' }).end(`upstream: ${error.code}\n`);
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }
}
