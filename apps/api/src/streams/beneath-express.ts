import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** A route served by the HTTP server itself, ahead of Express. */
export interface RouteBeneathExpress {
  /** Serves the request and returns true, or returns false to leave it to Express. */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Puts `route` between the HTTP server and Express: every request reaches the route first, and
 * whatever it does not take goes on to Express exactly as before. Call once the app is created
 * (its server then has Express as its one `request` listener) and before it listens.
 */
export function serveBeneathExpress(server: Server, route: RouteBeneathExpress): void {
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length !== 1) {
    throw new Error(`expected Express as the one request listener, found ${listeners.length}`);
  }
  const [express] = listeners;
  server.removeListener('request', express);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!route.serve(req, res)) express(req, res);
  });
}
