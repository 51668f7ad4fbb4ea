import { url } from './parsers';
import { required } from './read-env';

/** The two shared services, as every app reads them (`start:api`, `start:worker`, `npm start`). */
export const CONNECTION_VARIABLES = {
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
};

export interface ConnectionUrls {
  databaseUrl: string;
  redisUrl: string;
}

export interface ConnectionOptions {
  /**
   * `DATABASE_URL` and `REDIS_URL` must be set (default true: a separate process needs both).
   * An embedding process that hands the app its own database and broker passes false.
   */
  requireConnections?: boolean;
}

interface ConnectionValues {
  DATABASE_URL?: string;
  REDIS_URL?: string;
}

/** The URLs read with {@link CONNECTION_VARIABLES}; both required unless the options say not. */
export function connectionUrls(
  values: ConnectionValues,
  options: ConnectionOptions = {},
): Partial<ConnectionUrls> {
  if (options.requireConnections ?? true) {
    return {
      databaseUrl: required('DATABASE_URL', values.DATABASE_URL),
      redisUrl: required('REDIS_URL', values.REDIS_URL),
    };
  }
  return { databaseUrl: values.DATABASE_URL, redisUrl: values.REDIS_URL };
}
