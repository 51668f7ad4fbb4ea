import type { StoredEvent } from '../protocol';

export type Unsubscribe = () => Promise<void>;
export type BrokerListener = (payload: string) => void;

/**
 * A pub/sub bus that carries hints between processes. Delivery is at-most-once: a message may be
 * lost (disconnects, restarts), never reordered within one publisher's channel. Consumers treat
 * every message as a hint and recover from the Postgres log by position.
 *
 * Publish only after the transaction that wrote the events has committed.
 */
export interface Broker {
  /** Fire-and-forget: a failure is reported through the broker's error callback, never thrown. */
  publish(channel: string, payload: string): Promise<void>;
  /**
   * Adds a listener. Channels are reference-counted: the first listener subscribes upstream, the
   * last unsubscribe releases it.
   */
  subscribe(channel: string, listener: BrokerListener): Promise<Unsubscribe>;
  /**
   * Called after the upstream connection was lost and restored: anything published meanwhile was
   * lost, so consumers should re-read what they follow.
   */
  onResubscribe(listener: () => void): void;
  close(): Promise<void>;
}

export const BROKER = Symbol('BROKER');

/** Channel of a session's hints (`SessionHint`). */
export function sessionChannel(sessionId: string): string {
  return `session:${sessionId}`;
}

/** Channel of work hints for workers (`WorkHint`). */
export const WORK_CHANNEL = 'work';

/**
 * Published on {@link sessionChannel} after events were committed. `events` carries them when the
 * payload is small (the API node then needs no read); otherwise only `headSeq` tells how far to read.
 */
export interface SessionHint {
  sessionId: string;
  headSeq: number;
  events?: StoredEvent[];
}

/** Published on {@link WORK_CHANNEL}: new input to claim, or an interrupt of a running turn. */
export type WorkHint =
  | { kind: 'input'; sessionId: string }
  | { kind: 'interrupt'; sessionId: string; turnId: string }
  | { kind: 'end'; sessionId: string };

/** Largest hint payload that carries events inline (bytes of JSON); larger hints carry heads only. */
export const MAX_INLINE_HINT_BYTES = 64 * 1024;

/** Builds the payload of a {@link SessionHint} for events just committed. */
export function encodeSessionHint(sessionId: string, events: readonly StoredEvent[]): string {
  const headSeq = events.length ? events[events.length - 1].seq : 0;
  const full = JSON.stringify({ sessionId, headSeq, events });
  if (full.length <= MAX_INLINE_HINT_BYTES) return full;
  return JSON.stringify({ sessionId, headSeq });
}

/** Publishes committed events as hints: one message per session. */
export async function publishEvents(broker: Broker, events: readonly StoredEvent[]): Promise<void> {
  const bySession = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const list = bySession.get(event.sessionId) ?? [];
    list.push(event);
    bySession.set(event.sessionId, list);
  }
  await Promise.all(
    [...bySession].map(([id, list]) =>
      broker.publish(sessionChannel(id), encodeSessionHint(id, list)),
    ),
  );
}
