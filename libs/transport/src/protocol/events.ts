import * as z from 'zod';
import { SESSION_STATES } from './states';

const state = z.enum(SESSION_STATES);
const turnId = z.string().min(1);

/** Payload schema of every stored event type (PROTOCOL §2). One place; API, worker and SDK import it. */
export const eventDataSchemas = {
  'session.state': z.object({ from: state.nullable(), to: state, reason: z.string() }),
  'message.user': z.object({ clientMessageId: z.string(), content: z.string() }),
  'turn.started': z.object({ turnId, inputSeq: z.number().int().positive() }),
  'message.delta': z.object({ turnId, text: z.string() }),
  'tool.call': z.object({ turnId, callId: z.string(), name: z.string(), input: z.unknown() }),
  'tool.result': z.object({
    turnId,
    callId: z.string(),
    output: z.unknown(),
    isError: z.boolean(),
  }),
  'message.completed': z.object({ turnId, text: z.string() }),
  'interrupt.requested': z.object({ turnId: turnId.nullable() }),
  'turn.completed': z.object({
    turnId,
    stopReason: z.enum(['end_turn', 'interrupted', 'error', 'worker_lost']),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  }),
  'agent.error': z.object({ code: z.string(), message: z.string(), turnId: turnId.optional() }),
} as const;

export type EventType = keyof typeof eventDataSchemas;
export const EVENT_TYPES = Object.keys(eventDataSchemas) as EventType[];
export type EventData<T extends EventType = EventType> = z.infer<(typeof eventDataSchemas)[T]>;
export type StopReason = EventData<'turn.completed'>['stopReason'];

/** An event before the store gives it a seq. */
export type NewEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

/** An immutable entry of a session's log. `seq` is 1, 2, 3, … per session, gap-free. */
export type StoredEvent = {
  [T in EventType]: {
    sessionId: string;
    seq: number;
    type: T;
    data: EventData<T>;
    createdAt: string;
  };
}[EventType];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && value in eventDataSchemas;
}

/** Validates a new event's payload against its type's schema; throws a ZodError when it does not fit. */
export function parseNewEvent(event: { type: string; data: unknown }): NewEvent {
  if (!isEventType(event.type)) throw new Error(`unknown event type: ${event.type}`);
  const data = eventDataSchemas[event.type].parse(event.data);
  return { type: event.type, data } as NewEvent;
}
