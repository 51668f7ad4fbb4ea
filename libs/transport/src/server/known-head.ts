import { ACTIVITIES, SESSION_STATES, type Activity, type SessionState } from '../protocol';
import type { EncodedEvent } from './encoded-event';
import type { SessionHead } from './history';

/** The protocol's own strings: values read from the log are fresh strings a head would keep. */
const CANONICAL = new Map<string, string>([...SESSION_STATES, ...ACTIVITIES].map((v) => [v, v]));
const canonical = <T extends string>(value: T): T =>
  (CANONICAL.get(value) as T | undefined) ?? value;

/**
 * A session's head as this node knows it, learned from lookups, sync rounds, hints and reads. It
 * only ever takes values the log already held, so it can lag the log but never lead it, and it
 * never moves backwards: a decision made on it stays sound (a gap announced on it is real, ENDED
 * is final). The state comes from whichever source saw the highest seq (a state only changes with
 * a new seq).
 */
export class KnownHead implements SessionHead {
  headSeq: number;
  state: SessionState;
  activity: Activity;
  /** Seq at which `state` was observed. */
  private stateSeq: number;

  constructor(head: SessionHead) {
    this.headSeq = head.headSeq;
    this.state = canonical(head.state);
    this.activity = canonical(head.activity);
    this.stateSeq = head.headSeq;
  }

  /** Merges a head read from the sessions table (a lookup or a sync round). */
  merge(head: SessionHead): void {
    if (head.headSeq >= this.headSeq) this.activity = canonical(head.activity);
    if (head.headSeq > this.headSeq) this.headSeq = head.headSeq;
    if (head.headSeq >= this.stateSeq) {
      this.state = canonical(head.state);
      this.stateSeq = head.headSeq;
    }
  }

  /** A hint's head: the log holds at least `headSeq`. */
  reach(headSeq: number): void {
    if (headSeq > this.headSeq) this.headSeq = headSeq;
  }

  /** Learns from events passing through (hints, reads). */
  learn(events: readonly EncodedEvent[]): void {
    for (const event of events) {
      if (event.seq > this.headSeq) this.headSeq = event.seq;
      if (event.toState && event.seq > this.stateSeq) {
        this.state = canonical(event.toState);
        this.stateSeq = event.seq;
      }
    }
  }

  /** A copy that does not change afterwards. */
  snapshot(): SessionHead {
    return { headSeq: this.headSeq, state: this.state, activity: this.activity };
  }
}
