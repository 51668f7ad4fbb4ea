import {
  isLegalTransition,
  type NewEvent,
  type SessionState,
  type StoredEvent,
} from '@sessionwire/transport/protocol';
import {
  IdempotencyConflictError,
  IllegalTransitionError,
  SessionEndedError,
  SessionNotFoundError,
} from '@sessionwire/transport/protocol/domain-errors';
import { StaleLeaseError } from '../errors';
import { contentSha256, repeatedMessage, type MessageKey } from '../message-key-lookup';
import { EVENT_EFFECTS } from '../session-effects';
import type { SessionRow } from '../schema';
import { prepareEvents, type PreparedEvent } from './event-validation';
import type { LeaseChange, SessionCommand } from './session-command';

/** States in which a worker holds a session's lease. */
export const HELD: readonly SessionState[] = ['STARTING', 'ACTIVE'];

/** A session and the events that changed it (to publish after commit, or to log). */
export interface SessionChange {
  session: SessionRow;
  events: StoredEvent[];
}

export interface UserMessageResult {
  event: StoredEvent & { type: 'message.user' };
  duplicate: boolean;
}

type Row = Readonly<SessionRow> | undefined;

function exists(row: Row, sessionId: string): Readonly<SessionRow> {
  if (!row) throw new SessionNotFoundError(sessionId);
  return row;
}

function checkEpoch(row: Readonly<SessionRow>, leaseEpoch: number | undefined): void {
  if (leaseEpoch !== undefined && row.leaseEpoch !== leaseEpoch) {
    throw new StaleLeaseError(row.id, leaseEpoch);
  }
}

/** The session must exist, be held under `leaseEpoch` (when given) and not be ENDED. */
function live(row: Row, sessionId: string, leaseEpoch?: number): Readonly<SessionRow> {
  const r = exists(row, sessionId);
  checkEpoch(r, leaseEpoch);
  if (r.state === 'ENDED') throw new SessionEndedError(sessionId);
  return r;
}

function stateEvent(from: SessionState, to: SessionState, reason: string): PreparedEvent[] {
  return prepareEvents([{ type: 'session.state', data: { from, to, reason } }]);
}

/** Appends already validated events (never `message.user` or `session.state`). */
export function appendCommand(
  sessionId: string,
  events: PreparedEvent[],
  leaseEpoch: number | undefined,
): SessionCommand<StoredEvent[]> {
  const headOnly = events.every((e) => EVENT_EFFECTS[e.event.type].statement === 'head');
  return {
    sessionId,
    statement: headOnly ? { events, leaseEpoch, result: (stored) => stored } : undefined,
    decide: (row) => {
      live(row, sessionId, leaseEpoch);
      return { events, result: (stored) => stored };
    },
  };
}

/** A `message.user`, idempotent by `clientMessageId` (checked before ENDED). */
export function messageCommand(
  sessionId: string,
  message: { clientMessageId: string; content: string },
): SessionCommand<UserMessageResult> {
  const events = prepareEvents([{ type: 'message.user', data: message }]);
  const { clientMessageId, content } = events[0].event.data as typeof message;
  const sha = contentSha256(content);
  const answer = (stored: StoredEvent[], duplicate?: MessageKey): UserMessageResult => {
    if (!duplicate) return { event: stored[0] as UserMessageResult['event'], duplicate: false };
    return {
      event: repeatedMessage(sessionId, { clientMessageId, content }, duplicate),
      duplicate: true,
    };
  };
  return {
    sessionId,
    clientMessageId,
    statement: EVENT_EFFECTS['message.user'].statement
      ? { events, message: { clientMessageId, content }, result: answer }
      : undefined,
    decide: (row, batch) => {
      const r = exists(row, sessionId);
      const known = batch.message(sessionId, clientMessageId);
      if (known) {
        if (known.contentSha256 !== sha) {
          throw new IdempotencyConflictError(sessionId, clientMessageId);
        }
        const { createdAt } = known;
        return {
          events: [],
          result: (_stored, _row, find) => ({
            event: (createdAt === undefined
              ? find(sessionId, known.seq)
              : repeatedMessage(
                  sessionId,
                  { clientMessageId, content },
                  { ...known, createdAt },
                )) as UserMessageResult['event'],
            duplicate: true,
          }),
        };
      }
      if (r.state === 'ENDED') throw new SessionEndedError(sessionId);
      return {
        events,
        clientMessageId,
        result: (stored) => ({ event: stored[0] as UserMessageResult['event'], duplicate: false }),
      };
    },
  };
}

/** `from` → `to` (a legal transition only), with its `session.state` event. */
export function transitionCommand(
  sessionId: string,
  from: SessionState,
  to: SessionState,
  reason: string,
  options: { leaseEpoch?: number; lease?: (row: Readonly<SessionRow>) => LeaseChange } = {},
): SessionCommand<StoredEvent> {
  const events = stateEvent(from, to, reason);
  return {
    sessionId,
    decide: (row) => {
      const r = exists(row, sessionId);
      checkEpoch(r, options.leaseEpoch);
      if (r.state !== from) {
        throw new IllegalTransitionError(
          from,
          to,
          `session ${sessionId} is ${r.state}, not ${from}`,
        );
      }
      if (!isLegalTransition(from, to)) throw new IllegalTransitionError(from, to);
      return { events, lease: options.lease?.(r), result: (stored) => stored[0] };
    },
  };
}

/** `interrupt.requested` for the open turn; nothing without one; refused once ENDED. */
export function interruptCommand(
  sessionId: string,
): SessionCommand<{ turnId: string | null; events: StoredEvent[] }> {
  return {
    sessionId,
    decide: (row) => {
      const r = live(row, sessionId);
      const turnId = r.turnId;
      if (turnId === null) return { events: [], result: () => ({ turnId: null, events: [] }) };
      return {
        events: prepareEvents([{ type: 'interrupt.requested', data: { turnId } }]),
        result: (stored) => ({ turnId, events: stored }),
      };
    },
  };
}

/** Gives a held session up: ACTIVE → SUSPENDED, STARTING → DETACHED; pending input stays. */
export function releaseCommand(
  sessionId: string,
  leaseEpoch: number,
  reason: string,
): SessionCommand<SessionChange> {
  return {
    sessionId,
    decide: (row) => {
      const r = exists(row, sessionId);
      if (r.leaseEpoch !== leaseEpoch || !HELD.includes(r.state as SessionState)) {
        throw new StaleLeaseError(sessionId, leaseEpoch);
      }
      const from = r.state as SessionState;
      const to = from === 'ACTIVE' ? 'SUSPENDED' : 'DETACHED';
      return {
        events: stateEvent(from, to, reason),
        lease: unowned(r),
        result: (stored, session) => ({ session, events: stored }),
      };
    },
  };
}

/**
 * Closes the open turn (if any) with `stopReason` and moves the session to `to`, unowned, in one
 * write: ending (→ ENDED, `interrupted`) and detaching an expired lease (→ DETACHED,
 * `worker_lost`). Ending an ENDED session writes nothing.
 */
export function closeCommand(
  sessionId: string,
  to: 'ENDED' | 'DETACHED',
  reason: string,
  stopReason: 'interrupted' | 'worker_lost',
): SessionCommand<SessionChange> {
  return {
    sessionId,
    decide: (row) => {
      const r = exists(row, sessionId);
      if (to === 'ENDED' && r.state === 'ENDED') {
        return { events: [], result: (_stored, session) => ({ session, events: [] }) };
      }
      const events: NewEvent[] = [];
      if (r.turnId !== null) {
        events.push({ type: 'turn.completed', data: { turnId: r.turnId, stopReason } });
      }
      events.push({ type: 'session.state', data: { from: r.state as SessionState, to, reason } });
      if (!isLegalTransition(r.state as SessionState, to)) {
        throw new IllegalTransitionError(r.state as SessionState, to);
      }
      return {
        events: prepareEvents(events),
        lease: unowned(r),
        result: (stored, session) => ({ session, events: stored }),
      };
    },
  };
}

export function unowned(row: Readonly<SessionRow>): LeaseChange {
  return { owner: null, leaseMs: null, leaseEpoch: row.leaseEpoch + 1 };
}
