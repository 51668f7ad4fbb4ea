import type { StoredEvent } from '@sessionwire/transport/protocol';
import {
  publishEvents,
  publishWork,
  type Broker,
  type WorkHint,
} from '@sessionwire/transport/server';
import type { CommitHook } from './write-pipeline';

/**
 * What committed events tell the workers: a new `message.user` → `input`, an
 * `interrupt.requested` of a turn → `interrupt`, a session moved to ENDED → `end`. One hint per
 * kind and session per commit.
 */
export function workHintsOf(events: readonly StoredEvent[]): WorkHint[] {
  const hints = new Map<string, WorkHint>();
  for (const event of events) {
    const { sessionId } = event;
    if (event.type === 'message.user') {
      hints.set(`input:${sessionId}`, { kind: 'input', sessionId });
    } else if (event.type === 'interrupt.requested' && event.data.turnId !== null) {
      hints.set(`interrupt:${sessionId}`, {
        kind: 'interrupt',
        sessionId,
        turnId: event.data.turnId,
      });
    } else if (event.type === 'session.state' && event.data.to === 'ENDED') {
      hints.set(`end:${sessionId}`, { kind: 'end', sessionId });
    }
  }
  return [...hints.values()];
}

/**
 * The `onCommitted` hook of both apps: publishes the committed events on their sessions' channels
 * (one hint per session) and the work hints they imply on each session's work channel
 * (`publishWork`). Hints are published only here, after commit; the broker never throws (a lost
 * hint is repaired by sync and polling).
 */
export function publishCommitted(broker: Broker): CommitHook {
  return async (events) => {
    await Promise.all([
      publishEvents(broker, events),
      ...workHintsOf(events).map((hint) => publishWork(broker, hint)),
    ]);
  };
}
