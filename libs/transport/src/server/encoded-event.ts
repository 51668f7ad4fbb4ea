import { encodeEventFrame, type SessionState, type StoredEvent } from '../protocol';

/**
 * A stored event serialized once as an SSE frame. The hub encodes each event it receives or reads
 * once and hands the same buffer to every stream that needs it.
 */
export interface EncodedEvent {
  readonly seq: number;
  /** The state this event moved the session to, for `session.state` events. */
  readonly toState?: SessionState;
  /** `createdAt` in epoch milliseconds (publish-to-write latency). */
  readonly createdAtMs: number;
  readonly frame: Buffer;
}

export function encodeEvent(event: StoredEvent): EncodedEvent {
  return {
    seq: event.seq,
    toState: event.type === 'session.state' ? event.data.to : undefined,
    createdAtMs: Date.parse(event.createdAt),
    frame: Buffer.from(encodeEventFrame(event)),
  };
}
