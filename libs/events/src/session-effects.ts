import type { Activity, EventType, NewEvent, SessionState } from '@sessionwire/transport/protocol';

/** The columns of a session row that appending events changes. */
export interface SessionCursor {
  state: SessionState;
  headSeq: number;
  lastInputSeq: number;
  processedSeq: number;
  turnId: string | null;
  turnInputSeq: number | null;
}

export type SessionEffects = SessionCursor & { activity: Activity };

/**
 * What one event does to its session's row beyond `head_seq += 1`, applied to `next` (whose
 * `headSeq` is already the event's seq). Throws `Error` with a reason when the event does not fit
 * the row. `null`: nothing else (the event is row-neutral).
 */
type Effect<T extends EventType> =
  ((next: SessionCursor, event: Extract<NewEvent, { type: T }>) => void) | null;

/**
 * THE table of what every stored event type does to the session row. Both write paths use it: the
 * one-statement append takes a request only when every event of it is row-neutral here (so SQL
 * only bumps the head), and the locked path folds events through it with {@link applyEvents}.
 * There is no other list of event types and their effects.
 */
export const EVENT_EFFECTS: { readonly [T in EventType]: Effect<T> } = {
  'message.user': (next) => {
    next.lastInputSeq = next.headSeq;
  },
  'turn.started': (next, event) => {
    if (next.turnId !== null) throw new Error(`turn ${next.turnId} is still open`);
    if (event.data.inputSeq <= next.processedSeq || event.data.inputSeq > next.lastInputSeq) {
      throw new Error(`input ${event.data.inputSeq} is not pending`);
    }
    next.turnId = event.data.turnId;
    next.turnInputSeq = event.data.inputSeq;
  },
  'turn.completed': (next, event) => {
    if (next.turnId !== event.data.turnId) {
      throw new Error(`turn ${event.data.turnId} is not the open turn`);
    }
    next.processedSeq = next.turnInputSeq ?? next.processedSeq;
    next.turnId = null;
    next.turnInputSeq = null;
  },
  'session.state': (next, event) => {
    next.state = event.data.to;
  },
  'message.delta': null,
  'tool.call': null,
  'tool.result': null,
  'message.completed': null,
  'agent.error': null,
  'interrupt.requested': null,
};

/** True when every event changes nothing in the session row but its head. */
export function isRowNeutral(events: readonly { type: string }[]): boolean {
  return events.every((event) => EVENT_EFFECTS[event.type as EventType] === null);
}

/**
 * Folds new events (seqs `headSeq + 1 …`) into the session row they belong to, by
 * {@link EVENT_EFFECTS}. This is the one place that keeps `head_seq`, the input cursors, the open
 * turn and `activity` consistent with the log. Throws `Error` with a reason when an event does not
 * fit the row (a turn started while one is open, or completed when it is not the open one); the
 * caller turns it into a domain error.
 */
export function applyEvents(row: SessionCursor, events: readonly NewEvent[]): SessionEffects {
  const next: SessionCursor = { ...row };
  for (const event of events) {
    next.headSeq += 1;
    const effect = EVENT_EFFECTS[event.type] as Effect<typeof event.type>;
    effect?.(next, event as never);
  }
  return { ...next, activity: activityOf(next) };
}

export function activityOf(row: SessionCursor): Activity {
  if (row.state === 'ENDED') return 'idle';
  return row.turnId !== null || row.lastInputSeq > row.processedSeq ? 'running' : 'idle';
}
