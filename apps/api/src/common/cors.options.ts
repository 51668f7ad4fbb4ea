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
