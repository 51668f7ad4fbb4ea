/** The stream's route (PROTOCOL §4), served beneath Express for GET and HEAD. */
export const STREAM_METHODS = ['GET', 'HEAD'] as const;

/** The path as OpenAPI names it. */
export const STREAM_OPENAPI_PATH = '/v1/sessions/{id}/stream';

/** As Express matches `/v1/sessions/:id/stream`: any case, one optional trailing slash. */
const STREAM_PATH = /^\/v1\/sessions\/([^/]+)\/stream\/?$/i;

/** The raw (still percent-encoded) `:id` of a stream path, or undefined for any other path. */
export function streamPathId(path: string): string | undefined {
  return STREAM_PATH.exec(path)?.[1];
}
