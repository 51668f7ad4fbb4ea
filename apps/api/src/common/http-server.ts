import type { Server } from 'node:http';

/**
 * How long the API keeps an idle keep-alive connection: longer than the load balancers in front
 * of it keep theirs (nginx and ingress-nginx upstream keep-alive 60 s, AWS ALB 60 s), so the
 * balancer, never the API, closes an idle connection. Node's default (5 s) races the balancer:
 * a request written just as the API closes the connection fails, and a balancer never resends a
 * POST that reached a replica (it answers 502, which a browser's EventSource treats as final).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export function configureHttpServer(server: Server): void {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Node must not cut a kept-alive connection waiting for its next request's headers sooner.
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
}
