import { sql } from 'drizzle-orm';
import type { NewEvent, StoredEvent } from '@sessionwire/transport/protocol';
import type { Database } from './database';
import { nextEventAt } from './partitioned-log';
import { events, sessions } from './schema';

/** Event types that change nothing in the session row but its head (see `applyEvents`). */
const ROW_NEUTRAL_TYPES: ReadonlySet<string> = new Set([
  'message.delta',
  'tool.call',
  'tool.result',
  'message.completed',
  'agent.error',
  'interrupt.requested',
]);

export function isRowNeutral(newEvents: readonly NewEvent[]): boolean {
  return newEvents.every((event) => ROW_NEUTRAL_TYPES.has(event.type));
}

interface InsertedRow {
  seq: string | number;
  type: string;
  data: unknown;
  created_at: Date | string;
}

/**
 * The hot path of `EventStore.append` (deltas, tool calls, errors): events that change nothing in
 * the session row but its head. One statement, so one round trip: the UPDATE takes the row lock
 * and bumps the head, the INSERT in the same statement writes the events under it, and autocommit
 * ends both, so seqs stay gap-free and commit in order exactly as on the full path. `created_at`
 * is `last_event_at` moved on by {@link nextEventAt}, as on the full path (partitioned-log.ts,
 * rule 1). Returns undefined when the session is unknown, ENDED or held under another epoch
 * (nothing is written).
 */
export async function appendRowNeutral(
  db: Database,
  sessionId: string,
  newEvents: readonly NewEvent[],
  leaseEpoch: number | undefined,
): Promise<StoredEvent[] | undefined> {
  const count = newEvents.length;
  const payload = JSON.stringify(newEvents.map((e) => ({ type: e.type, data: e.data })));
  const epoch = leaseEpoch ?? null;
  const result = await db.execute(sql`
    with s as (
      update ${sessions} set head_seq = head_seq + ${count}, updated_at = now(),
        last_event_at = ${nextEventAt()}
      where id = ${sessionId} and state <> 'ENDED'
        and (${epoch}::int is null or lease_epoch = ${epoch}::int)
      returning head_seq, last_event_at
    )
    insert into ${events} (session_id, seq, type, data, created_at)
    select ${sessionId}::uuid, s.head_seq - ${count} + e.ord, e.value->>'type', e.value->'data',
      s.last_event_at
    from s, jsonb_array_elements(${payload}::jsonb) with ordinality as e(value, ord)
    returning seq, type, data, created_at`);
  // node-postgres and PGlite both answer with `rows`.
  const rows = (result as unknown as { rows: InsertedRow[] }).rows;
  if (rows.length === 0) return undefined;
  return rows
    .map(
      (row) =>
        ({
          sessionId,
          seq: Number(row.seq),
          type: row.type,
          data: row.data,
          createdAt: new Date(row.created_at).toISOString(),
        }) as StoredEvent,
    )
    .sort((a, b) => a.seq - b.seq);
}
