import type { EventSourceMessage } from 'eventsource-parser';
import {
  eventDataSchemas,
  isEventType,
  type EndFrame,
  type GapFrame,
  type HeartbeatFrame,
  type LiveFrame,
  type StoredEvent,
} from '../protocol';
import { ProtocolError } from './errors';

/** One SSE frame of the stream, decoded and checked against the shared schemas. */
export type DecodedFrame =
  | { kind: 'event'; event: StoredEvent }
  | { kind: 'gap'; gap: GapFrame }
  | { kind: 'live'; live: LiveFrame }
  | { kind: 'heartbeat'; heartbeat: HeartbeatFrame }
  | { kind: 'end'; end: EndFrame }
  | { kind: 'ignored' };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Decodes a parsed SSE message. Stored events must carry `id` equal to their `seq` and a payload
 * that fits their type's schema; control frames must carry their numeric fields. Unknown event
 * names are ignored (a newer server may add frames). Anything malformed throws `ProtocolError`.
 */
export function decodeFrame(message: EventSourceMessage): DecodedFrame {
  const name = message.event ?? 'message';
  const known = isEventType(name) || ['gap', 'live', 'heartbeat', 'end'].includes(name);
  if (!known) return { kind: 'ignored' };
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    throw new ProtocolError(`frame '${name}' has non-JSON data`, message);
  }
  if (!isRecord(data)) throw new ProtocolError(`frame '${name}' data is not an object`, message);
  if (isEventType(name)) {
    if (!isSeq(data.seq) || data.seq < 1 || data.type !== name || String(data.seq) !== message.id) {
      throw new ProtocolError(`event frame '${name}' has a bad seq, id or type`, message);
    }
    const parsed = eventDataSchemas[name].safeParse(data.data);
    if (!parsed.success) {
      throw new ProtocolError(`event ${data.seq} (${name}) does not fit its schema`, message);
    }
    return { kind: 'event', event: { ...data, data: parsed.data } as StoredEvent };
  }
  switch (name) {
    case 'gap':
      if (!isSeq(data.fromSeq) || !isSeq(data.toSeq) || !isSeq(data.headSeq)) {
        throw new ProtocolError('gap frame lacks fromSeq/toSeq/headSeq', message);
      }
      return { kind: 'gap', gap: data as unknown as GapFrame };
    case 'live':
      if (!isSeq(data.headSeq)) throw new ProtocolError('live frame lacks headSeq', message);
      return { kind: 'live', live: data as unknown as LiveFrame };
    case 'heartbeat':
      if (!isSeq(data.headSeq)) throw new ProtocolError('heartbeat frame lacks headSeq', message);
      return { kind: 'heartbeat', heartbeat: data as unknown as HeartbeatFrame };
    default:
      return { kind: 'end', end: data as unknown as EndFrame };
  }
}
