import type { StoredEvent } from '@sessionwire/transport/protocol';
import {
  ReadBatcher,
  type HistoryReader,
  type ReadBatchOptions,
  type SessionHead,
} from '@sessionwire/transport/server';
import type { EventStore, EventsAfter } from './event-store';

/** Most events one batched query may return (the sum of its reads' limits). */
const MAX_ROWS_PER_QUERY = 50_000;

/**
 * The stream engine's {@link HistoryReader} on the event store, with reads batched across
 * sessions by a {@link ReadBatcher}: reads waiting at the same moment share one
 * `getEventsAfterMany` query (identical reads share an entry), so a reconnect storm of distinct
 * sessions costs about what one of identical cursors costs. Each read returns exactly what
 * `getEventsAfter` would, from the log at least as fresh as when it was asked.
 */
export class BatchedEventReader implements HistoryReader {
  private readonly batcher: ReadBatcher<EventsAfter, StoredEvent[]>;

  constructor(
    private readonly store: Pick<EventStore, 'getEventsAfterMany' | 'getHeads'>,
    options: ReadBatchOptions = {},
  ) {
    this.batcher = new ReadBatcher((reads) => store.getEventsAfterMany(reads), {
      maxWeight: MAX_ROWS_PER_QUERY,
      ...options,
    });
  }

  getEventsAfter(sessionId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    if (limit <= 0) return Promise.resolve([]);
    const read = { sessionId, afterSeq, limit };
    return this.batcher.read(`${sessionId}:${afterSeq}:${limit}`, read, limit);
  }

  getHeads(sessionIds: readonly string[]): Promise<Map<string, SessionHead>> {
    return this.store.getHeads(sessionIds);
  }
}
