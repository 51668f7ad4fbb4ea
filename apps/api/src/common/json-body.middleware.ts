import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ApiProblem } from '../errors/problem';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Reads one request header by its lower-case name. */
export type HeaderOf = (name: string) => string | undefined;

function hasBody(header: HeaderOf): boolean {
  const length = header('content-length');
  if (header('transfer-encoding') !== undefined) return true;
  return length !== undefined && length !== '0';
}

/** 415 for a request with a body that is not JSON; undefined when it has none or a JSON one. */
export function unsupportedBody(header: HeaderOf): ApiProblem | undefined {
  if (!hasBody(header)) return undefined;
  const type = header('content-type') ?? '';
  if (JSON_TYPE.test(type)) return undefined;
  return new ApiProblem(
    'unsupported_media_type',
    `request bodies must be application/json, not ${type ? `"${type}"` : 'untyped'}`,
  );
}

/**
 * JSON bodies only: a request with a body of another type gets 415 before anything is read;
 * bodies above `limitBytes` get 413 (body-parser stops reading at the limit).
 */
export function jsonBody(limitBytes: number): RequestHandler[] {
  const requireJson = (req: Request, _res: Response, next: NextFunction) =>
    next(unsupportedBody((name) => req.get(name)));
  const parse = json({
    limit: limitBytes,
    strict: true,
    type: (req) => JSON_TYPE.test(String(req.headers['content-type'] ?? '')),
  });
  return [requireJson, parse];
}

/**
 * Body limit: a maximal message written with the longest JSON escapes (`\uXXXX`, 6 bytes per
 * byte of content) still fits, plus room for the other fields.
 */
export function bodyLimitBytes(maxMessageBytes: number): number {
  return maxMessageBytes * 6 + 64 * 1024;
}
