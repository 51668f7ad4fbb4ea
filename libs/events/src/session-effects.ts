import type { Activity, NewEvent, SessionState } from '@sessionwire/transport/protocol';

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
 * Folds new events (seqs `headSeq + 1 …`) into the session row they belong to. This is the one
 * place that keeps `head_seq`, the input cursors, the open turn and `activity` consistent with the
 * log. Throws `Error` with a reason when an event does not fit the row (a turn started while one
 * is open, or completed when it is not the open one); the caller turns it into a domain error.
 */
export function applyEvents(row: SessionCursor, events: readonly NewEvent[]): SessionEffects {
  const next: SessionCursor = { ...row };
  for (const event of events) {
    next.headSeq += 1;
    switch (event.type) {
      case 'message.user':
        next.lastInputSeq = next.headSeq;
        break;
      case 'turn.started':
        if (next.turnId !== null) throw new Error(`turn ${next.turnId} is still open`);
        if (event.data.inputSeq <= next.processedSeq || event.data.inputSeq > next.lastInputSeq) {
          throw new Error(`input ${event.data.inputSeq} is not pending`);
        }
        next.turnId = event.data.turnId;
        next.turnInputSeq = event.data.inputSeq;
        break;
      case 'turn.completed':
        if (next.turnId !== event.data.turnId) {
          throw new Error(`turn ${event.data.turnId} is not the open turn`);
        }
        next.processedSeq = next.turnInputSeq ?? next.processedSeq;
        next.turnId = null;
        next.turnInputSeq = null;
        break;
      case 'session.state':
        next.state = event.data.to;
        break;
      default:
        break;
    }
  }
  return { ...next, activity: activityOf(next) };
}

export function activityOf(row: SessionCursor): Activity {
  if (row.state === 'ENDED') return 'idle';
  return row.turnId !== null || row.lastInputSeq > row.processedSeq ? 'running' : 'idle';
}
