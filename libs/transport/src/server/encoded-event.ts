import { encodeEventFrame, type SessionState, type StoredEvent } from '../protocol';

/**
 * A stored event as the engine hands it to every follower: parsed once and serialized once as an
 * SSE frame. The same object (and buffer) goes to every stream that needs it; front ends that
 * write other bytes read `stored`.
 */
export interface EncodedEvent {
  readonly seq: number;
  /** The event itself, parsed once (never mutate it: it is shared). */
  readonly stored: StoredEvent;
  /** The state this event moved the session to, for `session.state` events. */
  readonly toState?: SessionState;
  /** `createdAt` in epoch milliseconds (publish-to-write latency). */
  readonly createdAtMs: number;
  /** The SSE frame of the event (`id`, `event`, `data`). */
  readonly frame: Buffer;
}

export function encodeEvent(event: StoredEvent): EncodedEvent {
  return {
    seq: event.seq,
    stored: event,
    toState: event.type === 'session.state' ? event.data.to : undefined,
    createdAtMs: Date.parse(event.createdAt),
    frame: Buffer.from(encodeEventFrame(event)),
  };
}
