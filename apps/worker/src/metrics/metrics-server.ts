import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { DatabaseHealthState } from '../health/database-health';

/**
 * A tiny HTTP server exposing `GET /metrics` (Prometheus text), `GET /healthz` (200 while the
 * process runs, with the database state) and `GET /readyz` (503 while Postgres is unreachable).
 */
export class MetricsServer {
  private server?: Server;

  constructor(
    private readonly registry: Registry,
    private readonly health: () => DatabaseHealthState = () => ({ database: 'up' }),
  ) {}

  /** Listens on `port` (0: any free one) and returns the bound port. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/metrics') {
        this.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
          (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
        );
      } else if (path === '/healthz' || path === '/readyz') {
        const state = this.health();
        const ready = state.database === 'up';
        const status = path === '/healthz' || ready ? 200 : 503;
        const body = { status: ready ? 'ok' : 'degraded', ...state };
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      } else {
        res.writeHead(404).end();
      }
    });
    this.server = server;
    server.listen(port, host);
    await once(server, 'listening');
    return (server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  }
}
