import type { IncomingMessage } from 'node:http';
import type cors from 'cors';
import type { ApiConfig } from '../config/api-config';

/** The options of the `cors` middleware (the shape both Nest's `enableCors` and `cors` take). */
export interface ApiCorsOptions {
  origin: true | string[];
  methods: string[];
  allowedHeaders: string[];
  exposedHeaders: string[];
  maxAge: number;
}

/**
 * CORS for the configured origins (PROTOCOL §7), or undefined: no CORS headers at all. The same
 * options serve Express's routes and the stream route beneath it.
 */
export function corsOptions(config: ApiConfig): ApiCorsOptions | undefined {
  if (config.corsOrigins.length === 0) return undefined;
  return {
    origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'content-type', 'last-event-id'],
    exposedHeaders: ['retry-after', 'x-request-id'],
    maxAge: 600,
  };
}

/**
 * The headers `middleware` (the `cors` middleware made from {@link corsOptions}) gives a request
 * that is not a preflight, collected instead of set, so that a caller can send them in one
 * `writeHead` (a response that never had `setHeader` keeps no header map while it stays open).
 */
export function corsHeaders(
  middleware: ReturnType<typeof cors>,
  req: Pick<IncomingMessage, 'method' | 'headers'>,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const collector = {
    getHeader: (name: string) => headers[name],
    setHeader: (name: string, value: string) => (headers[name] = value),
    end: () => undefined,
  };
  middleware(req as IncomingMessage, collector, () => undefined);
  return headers;
}
