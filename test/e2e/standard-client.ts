import { EVENT_TYPES, type StoredEvent } from '../../libs/transport/src/protocol';

/** Every frame name the stream sends: the stored event types and the control frames. */
export const FRAME_NAMES: string[] = [...EVENT_TYPES, 'gap', 'live', 'heartbeat', 'end'];

/** What one standard `EventSource` saw, as plain data (it crosses from the browser as JSON). */
export interface StandardClientState {
  sessionId: string;
  frames: { event: string; id: string; data: string }[];
  /** Each `error` event: the readyState at that moment (2 = CLOSED: the client gave up). */
  errors: { readyState: number; detail: string }[];
  /** Frames that reached `onmessage` (a frame without a known name). */
  unnamed: number;
  opens: number;
  ended: boolean;
  readyState: number;
}

interface EventSourceLike {
  readyState: number;
  onopen: ((event: Event) => unknown) | null;
  onerror: ((event: Event) => unknown) | null;
  onmessage: ((event: MessageEvent) => unknown) | null;
  addEventListener(name: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

/**
 * Opens a standard `EventSource` on a session's stream the way an application would: one listener
 * per frame name, `onerror` read as "connection trouble", and `close()` once `end` arrives.
 * Self-contained on purpose: the browser test runs this very function in the page.
 */
export function openStandardClient(
  EventSourceClass: new (url: string) => EventSourceLike,
  url: string,
  sessionId: string,
  names: string[],
): { state: StandardClientState; snapshot: () => StandardClientState; close: () => void } {
  const source = new EventSourceClass(url);
  const state: StandardClientState = {
    sessionId,
    frames: [],
    errors: [],
    unnamed: 0,
    opens: 0,
    ended: false,
    readyState: source.readyState,
  };
  for (const name of names) {
    source.addEventListener(name, (event: MessageEvent) => {
      state.frames.push({ event: name, id: event.lastEventId, data: String(event.data) });
      if (name === 'end') {
        state.ended = true;
        source.close();
      }
    });
  }
  source.onopen = () => (state.opens += 1);
  source.onmessage = () => (state.unnamed += 1);
  source.onerror = (event: Event) => {
    const detail = (event as Event & { message?: string }).message ?? event.constructor.name;
    state.errors.push({ readyState: source.readyState, detail: String(detail) });
  };
  const snapshot = () => ({ ...state, readyState: source.readyState });
  return { state, snapshot, close: () => source.close() };
}

/** The stored events and gaps in a client's frames, plus any frame whose id is not its seq. */
export function storedEvents(state: StandardClientState) {
  const events: StoredEvent[] = [];
  const gaps: { fromSeq: number; toSeq: number }[] = [];
  const violations: string[] = [];
  for (const frame of state.frames) {
    if (frame.event === 'gap')
      gaps.push(JSON.parse(frame.data) as { fromSeq: number; toSeq: number });
    if (!(EVENT_TYPES as string[]).includes(frame.event)) continue;
    const event = JSON.parse(frame.data) as StoredEvent;
    if (String(event.seq) !== frame.id || event.type !== frame.event) {
      violations.push(`frame ${frame.event} id ${frame.id} carries ${frame.data.slice(0, 200)}`);
    }
    events.push(event);
  }
  return { sessionId: state.sessionId, events, gaps, violations };
}

/** readyState CLOSED of the EventSource interface. */
export const CLOSED = 2;

/**
 * True when the client gave up: an `error` with readyState CLOSED, or a closed source without an
 * `end` (a standard EventSource never reconnects after either).
 */
export function gaveUp(state: StandardClientState): boolean {
  return (
    (state.readyState === CLOSED && !state.ended) ||
    state.errors.some((e) => e.readyState === CLOSED)
  );
}
