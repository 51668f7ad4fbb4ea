import { randomUUID } from 'node:crypto';
import type { EventStore } from '../libs/events/src';
import {
  publishEvents,
  publishWork,
  type Broker,
  type WorkHint,
} from '../libs/transport/src/server';

/** Publishes a work hint as the API does. */
export async function hintWorkers(broker: Broker, hint: WorkHint): Promise<void> {
  await publishWork(broker, hint);
}

/**
 * Posts a user message the way the API does, for tests that run workers without an API: append
 * it, publish it on the session's channel, then hint the workers. Returns the message's seq.
 */
export async function postAsApi(
  store: EventStore,
  broker: Broker,
  sessionId: string,
  content: string,
  clientMessageId = randomUUID(),
): Promise<number> {
  const { event } = await store.appendUserMessage(sessionId, { clientMessageId, content });
  await publishEvents(broker, [event]);
  await hintWorkers(broker, { kind: 'input', sessionId });
  return event.seq;
}
