import {
  eventDataSchemas,
  isEventType,
  type NewEvent,
  type StoredEvent,
} from '@sessionwire/transport/protocol';
import { InvalidEventError } from './write-errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `\u0000` not itself escaped (`\\u0000` is the six characters, fine): jsonb refuses it. */
const NUL_ESCAPE = /(?<!\\)(?:\\\\)*\\u0000/;
/** An escaped UTF-16 surrogate: jsonb refuses them. */
const LONE_SURROGATE = /(?<!\\)(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/i;

/** A validated event with its payload serialized once, ready for SQL. */
export interface PreparedEvent {
  event: NewEvent;
  /** `JSON.stringify(event.data)`, checked storable by Postgres' jsonb. */
  json: string;
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Checks events against the protocol's zod schemas and against what the columns can store, before
 * any SQL: a bad event is an {@link InvalidEventError} for its caller only, never a stored row
 * that every client drops, and never a failed statement that takes a whole batch with it.
 */
export function prepareEvents(events: readonly { type: string; data: unknown }[]): PreparedEvent[] {
  return events.map((raw, index) => {
    const where = `event ${index} (${String(raw?.type)})`;
    if (!isEventType(raw?.type)) throw new InvalidEventError(`${where}: unknown event type`);
    const parsed = eventDataSchemas[raw.type].safeParse(raw.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue.path.length ? `${issue.path.join('.')}: ` : '';
      throw new InvalidEventError(`${where}: ${path}${issue.message}`);
    }
    const event = { type: raw.type, data: parsed.data } as NewEvent;
    if (event.type === 'turn.started' && !isUuid(event.data.turnId)) {
      throw new InvalidEventError(`${where}: turnId must be a UUID`);
    }
    return { event, json: storableJson(event.data, where) };
  });
}

/** Serializes a payload, refusing what jsonb cannot hold (NUL characters, lone surrogates). */
export function storableJson(value: unknown, where: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new InvalidEventError(`${where}: not serializable as JSON (${(error as Error).message})`);
  }
  if (json === undefined) throw new InvalidEventError(`${where}: not serializable as JSON`);
  if (NUL_ESCAPE.test(json)) throw new InvalidEventError(`${where}: contains a NUL character`);
  // JSON.stringify writes a surrogate pair as its characters and escapes only a lone one.
  if (LONE_SURROGATE.test(json)) {
    throw new InvalidEventError(`${where}: contains an unpaired UTF-16 surrogate`);
  }
  return json;
}

/** The stored event of a row returned by Postgres (node-postgres and PGlite shapes). */
export function storedEvent(row: {
  session_id: string;
  seq: string | number;
  type: string;
  data: unknown;
  created_at: Date | string;
}): StoredEvent {
  return {
    sessionId: row.session_id,
    seq: Number(row.seq),
    type: row.type,
    data: row.data,
    createdAt: new Date(row.created_at).toISOString(),
  } as StoredEvent;
}
