import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import { stdSerializers, type DestinationStream } from 'pino';
import type { Options } from 'pino-http';
import { v7 as uuidv7 } from 'uuid';
import type { ApiConfig } from '../config/api-config';
import { expectedOutcome, isClientGone, keepsError, requestLogLevel } from './request-outcome';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** The `params:` part drizzle appends to a failed query's message, up to the stack frames. */
const QUERY_PARAMS = /\nparams: [\s\S]*?(?=\n\s+at |\ncaused by|$)/;
const SECRET_QUERY = /([?&]access_token=)[^&]*/gi;

/** Strips credentials (`access_token`) from a logged URL. */
export function redactUrl(url: string | undefined): string | undefined {
  return url?.replace(SECRET_QUERY, '$1[redacted]');
}

/** Errors without query parameters: a failed insert's params would carry message content. */
export function serializeError(error: Error): Record<string, unknown> {
  const serialized = stdSerializers.err(error) as unknown as Record<string, unknown>;
  delete serialized.params;
  for (const key of ['message', 'stack'] as const) {
    if (typeof serialized[key] === 'string') {
      serialized[key] = (serialized[key] as string).replace(QUERY_PARAMS, '\nparams: [redacted]');
    }
  }
  return serialized;
}

/**
 * A request's id (echoed as `X-Request-Id`) from its `X-Request-Id` header: a valid one is kept,
 * otherwise a new UUIDv7.
 */
export function requestId(incoming: unknown): string {
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : uuidv7();
}

/**
 * JSON logs with one request id per request (an incoming valid `X-Request-Id` is kept and echoed).
 * No headers, bodies or tokens are logged. Levels follow {@link requestLogLevel}: a stream refused
 * while draining or a client that went away is `info` without a stack; `error` means a fault.
 * Logs go to stdout, or to `destination` (tests).
 */
export function loggerOptions(config: ApiConfig, destination?: DestinationStream): Params {
  const options: Options = {
    level: config.logLevel,
    base: { service: 'sessionwire-api' },
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = requestId(req.headers['x-request-id']);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, error) => requestLogLevel(res, error),
    customErrorObject: (_req, res, error, fields: Record<string, unknown>) => {
      if (keepsError(res, error)) return fields;
      const { err: _dropped, ...rest } = fields;
      return rest;
    },
    customErrorMessage: (_req, res, error) => {
      const expected = expectedOutcome(res);
      if (expected) return `request answered ${res.statusCode}: ${expected.reason}`;
      if (isClientGone(error)) return 'request aborted';
      return 'request errored';
    },
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: serializeError,
    },
    redact: { paths: ['req.headers', 'res.headers'], remove: true },
  };
  return { pinoHttp: destination ? [options, destination] : options };
}
