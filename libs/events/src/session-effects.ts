import type { Activity, EventType, NewEvent, SessionState } from '@sessionwire/transport/protocol';
import { InputAlreadyProcessedError } from './write/write-errors';

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
 * the row (an {@link InputAlreadyProcessedError} for a turn of input whose turn was closed).
 * `null`: nothing else (the event is row-neutral).
 */
type Fold<T extends EventType> =
  ((next: SessionCursor, event: Extract<NewEvent, { type: T }>) => void) | null;

/**
 * How the one-statement append applies an event, when it can: `head` (only the head moves: the
 * fold is null) or `input` (the head moves, `last_input_seq` becomes its seq and the session is
 * running: the fold of a `message.user`). `null`: only the locked path, which runs the fold.
 */
export type StatementEffect = 'head' | 'input' | null;

interface Effect<T extends EventType> {
  fold: Fold<T>;
  statement: StatementEffect;
}

/**
 * THE table of what every stored event type does to the session row. Both write paths use it: the
 * one-statement append takes a request only when the table says it can apply every event of it
 * (`statement`), and the locked path folds events through it with {@link applyEvents}. There is
 * no other list of event types and their effects.
 */
export const EVENT_EFFECTS: { readonly [T in EventType]: Effect<T> } = {
  'message.user': {
    fold: (next) => {
      next.lastInputSeq = next.headSeq;
    },
    statement: 'input',
  },
  'turn.started': {
    fold: (next, event) => {
      if (next.turnId !== null) throw new Error(`turn ${next.turnId} is still open`);
      if (event.data.inputSeq <= next.processedSeq) {
        throw new InputAlreadyProcessedError(event.data.inputSeq, next.processedSeq);
      }
      if (event.data.inputSeq > next.lastInputSeq) {
        throw new Error(`input ${event.data.inputSeq} is not pending`);
      }
      next.turnId = event.data.turnId;
      next.turnInputSeq = event.data.inputSeq;
    },
    statement: null,
  },
  'turn.completed': {
    fold: (next, event) => {
      if (next.turnId !== event.data.turnId) {
        throw new Error(`turn ${event.data.turnId} is not the open turn`);
      }
      next.processedSeq = next.turnInputSeq ?? next.processedSeq;
      next.turnId = null;
      next.turnInputSeq = null;
    },
    statement: null,
  },
  'session.state': {
    fold: (next, event) => {
      next.state = event.data.to;
    },
    statement: null,
  },
  'message.delta': { fold: null, statement: 'head' },
  'tool.call': { fold: null, statement: 'head' },
  'tool.result': { fold: null, statement: 'head' },
  'message.completed': { fold: null, statement: 'head' },
  'agent.error': { fold: null, statement: 'head' },
  'interrupt.requested': { fold: null, statement: 'head' },
};

/** True when every event changes nothing in the session row but its head. */
export function isRowNeutral(events: readonly { type: string }[]): boolean {
  return events.every((event) => EVENT_EFFECTS[event.type as EventType].fold === null);
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
    const { fold } = EVENT_EFFECTS[event.type] as Effect<typeof event.type>;
    fold?.(next, event as never);
  }
  return { ...next, activity: activityOf(next) };
}

export function activityOf(row: SessionCursor): Activity {
  if (row.state === 'ENDED') return 'idle';
  return row.turnId !== null || row.lastInputSeq > row.processedSeq ? 'running' : 'idle';
}
