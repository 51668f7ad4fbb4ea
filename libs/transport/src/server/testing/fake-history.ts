import type { Activity, SessionState, StoredEvent } from '../../protocol';
import type { HistoryReader, SessionHead } from '../history';

interface FakeSession {
  events: StoredEvent[];
  /** Seqs up to this one were removed by retention. */
  expiredThrough: number;
  state: SessionState;
  activity: Activity;
}

/**
 * An in-memory session log implementing {@link HistoryReader}, recording every call. Reads can be
 * held (`holdReads`) to interleave live hints with a resume.
 */
export class FakeHistory implements HistoryReader {
  readonly eventReads: { sessionId: string; afterSeq: number; limit: number }[] = [];
  readonly headReads: string[][] = [];
  private readonly sessions = new Map<string, FakeSession>();
  private gate: Promise<void> | undefined;

  /** A new session at seq 1 (`session.state` → CREATED) or in the given state. */
  create(sessionId: string, state: SessionState = 'CREATED'): void {
    this.sessions.set(sessionId, {
      events: [],
      expiredThrough: 0,
      state: 'CREATED',
      activity: 'idle',
    });
    this.append(sessionId, [stateEvent(sessionId, 1, null, 'CREATED')]);
    if (state !== 'CREATED') this.transition(sessionId, state);
  }

  /** Appends `count` message.delta events (texts padded to `textBytes`); returns them. */
  appendDeltas(sessionId: string, count: number, textBytes = 0): StoredEvent[] {
    const session = this.require(sessionId);
    const added: StoredEvent[] = [];
    for (let i = 0; i < count; i++) {
      added.push({
        sessionId,
        seq: session.events.length + added.length + 1,
        type: 'message.delta',
        data: {
          turnId: 'turn-1',
          text: `t${session.events.length + added.length + 1}`.padEnd(textBytes, '.'),
        },
        createdAt: new Date().toISOString(),
      });
    }
    return this.append(sessionId, added);
  }

  transition(sessionId: string, to: SessionState): StoredEvent[] {
    const session = this.require(sessionId);
    const event = stateEvent(sessionId, session.events.length + 1, session.state, to);
    return this.append(sessionId, [event]);
  }

  setActivity(sessionId: string, activity: Activity): void {
    this.require(sessionId).activity = activity;
  }

  head(sessionId: string): SessionHead {
    const session = this.require(sessionId);
    return { headSeq: session.events.length, state: session.state, activity: session.activity };
  }

  events(sessionId: string): StoredEvent[] {
    return this.require(sessionId).events;
  }

  /** Retention: reads no longer return the session's events up to `throughSeq` (§8). */
  expire(sessionId: string, throughSeq: number): void {
    this.require(sessionId).expiredThrough = throughSeq;
  }

  /** Holds every read until the returned function is called. */
  holdReads(): () => void {
    let release!: () => void;
    this.gate = new Promise((resolve) => (release = resolve));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  async getEventsAfter(sessionId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    this.eventReads.push({ sessionId, afterSeq, limit });
    await this.gate;
    const session = this.require(sessionId);
    const from = Math.max(afterSeq, session.expiredThrough);
    return session.events.slice(from, from + limit);
  }

  async getHeads(sessionIds: readonly string[]): Promise<Map<string, SessionHead>> {
    this.headReads.push([...sessionIds]);
    await this.gate;
    const heads = new Map<string, SessionHead>();
    for (const id of sessionIds) if (this.sessions.has(id)) heads.set(id, this.head(id));
    return heads;
  }

  private append(sessionId: string, events: StoredEvent[]): StoredEvent[] {
    const session = this.require(sessionId);
    for (const event of events) {
      session.events.push(event);
      if (event.type === 'session.state') session.state = event.data.to;
    }
    return events;
  }

  private require(sessionId: string): FakeSession {
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`unknown session ${sessionId}`);
    return session;
  }
}

function stateEvent(
  sessionId: string,
  seq: number,
  from: SessionState | null,
  to: SessionState,
): StoredEvent {
  return {
    sessionId,
    seq,
    type: 'session.state',
    data: { from, to, reason: 'test' },
    createdAt: new Date().toISOString(),
  };
}
