import type { HistoryReader, SessionHead } from './history';
import { ReadBatcher, type ReadBatchOptions } from './read-batcher';

/**
 * Session heads from the log, batched by a {@link ReadBatcher}: lookups waiting at the same
 * moment share one `getHeads` query, so the head a lookup gets is at least as fresh as the log
 * when it was asked (a cursor the client got from the log is never above it).
 */
export class HeadLoader {
  private readonly batcher: ReadBatcher<string, SessionHead | undefined>;

  constructor(history: Pick<HistoryReader, 'getHeads'>, options?: ReadBatchOptions) {
    this.batcher = new ReadBatcher(async (ids) => {
      const heads = await history.getHeads(ids);
      return ids.map((id) => heads.get(id));
    }, options);
  }

  /** The session's head, or undefined when the session does not exist. */
  load(sessionId: string): Promise<SessionHead | undefined> {
    return this.batcher.read(sessionId, sessionId);
  }
}
