import type { SessionHead, StoredEvent } from '../protocol';

export type { SessionHead };

/**
 * What the stream engine reads from the log; the API wires the EventStore in (libs/transport must
 * not import libs/events).
 */
export interface HistoryReader {
  /** Up to `limit` events of the session with `seq > afterSeq`, ascending by seq, gap-free. */
  getEventsAfter(sessionId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  /** Heads of the given sessions in one query; unknown ids are absent from the map. */
  getHeads(sessionIds: readonly string[]): Promise<Map<string, SessionHead>>;
}
