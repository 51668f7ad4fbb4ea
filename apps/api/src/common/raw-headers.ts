import type { IncomingMessage } from 'node:http';

/** Headers whose repeats Node drops (it keeps the first); it joins the others with ", ". */
const FIRST_ONLY = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/**
 * One request header (`name` in lower case) with the value `req.headers[name]` would have, read
 * from `req.rawHeaders`: reading `req.headers` builds a header object that a long-lived request
 * (a stream) then keeps for its whole life.
 */
export function rawHeader(req: IncomingMessage, name: string): string | undefined {
  const raw = req.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length !== name.length || raw[i].toLowerCase() !== name) continue;
    if (value === undefined) value = raw[i + 1];
    else if (!FIRST_ONLY.has(name)) value += `, ${raw[i + 1]}`;
  }
  return value;
}
