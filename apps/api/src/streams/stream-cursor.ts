import { parseCursor } from '@sessionwire/transport/protocol';
import { validationFailed } from '../errors/problem';

/**
 * The stream's cursor (PROTOCOL §4): `Last-Event-ID` wins over `?after=` (which is then ignored,
 * even if invalid); an empty header counts as absent; neither → 0. Invalid → 400.
 */
export function streamCursor(lastEventId: unknown, after: unknown): number {
  if (typeof lastEventId === 'string' && lastEventId !== '') {
    return parse(lastEventId, 'Last-Event-ID');
  }
  if (after === undefined) return 0;
  if (typeof after !== 'string') throw validationFailed('after: must be given once');
  return parse(after, 'after');
}

function parse(raw: string, name: string): number {
  const value = parseCursor(raw.trim());
  if (value === undefined) throw validationFailed(`${name}: must be an integer from 0 to 2^53-1`);
  return value;
}
