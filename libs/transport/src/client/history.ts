import type { EventsPage, StoredEvent } from '../protocol';
import { backoffDelay, parseRetryAfter, type BackoffOptions } from './backoff';
import { sleep, type Clock } from './clock';
import { HttpError, SessionwireError } from './errors';
import {
  requestJson,
  ResponseError,
  sessionPath,
  type BaseUrlRing,
  type TokenSource,
} from './http';

export interface HistoryRequest {
  fetch: typeof fetch;
  clock: Clock;
  random: () => number;
  urls: BaseUrlRing;
  token: TokenSource | undefined;
  sessionId: string;
  /** First seq wanted. */
  fromSeq: number;
  /** Last seq wanted (inclusive). */
  toSeq: number;
  /** Page size, 1..1000. */
  limit: number;
  timeoutMs: number;
  backoff: BackoffOptions;
  /** Tries per page before giving up on a transient failure. */
  maxAttempts: number;
  signal?: AbortSignal;
}

function isTransient(error: unknown): boolean {
  if (!(error instanceof HttpError)) return true;
  return error.status === 408 || error.status === 429 || error.status >= 500;
}

/**
 * Pages `GET /v1/sessions/:id/events?after=…&limit=…` from `fromSeq` through `toSeq`, yielding each
 * page's events (ascending, never beyond `toSeq`) until `toSeq` is reached or the log has no more.
 * Seqs removed by the server's retention (410 `history_expired`) are skipped: paging goes on from
 * the problem's `oldestSeq`, so what still exists is returned. Transient failures (network, 408,
 * 429, 5xx) are retried with backoff on the next base URL; definitive ones throw `HttpError`.
 */
export async function* pageHistory(req: HistoryRequest): AsyncGenerator<StoredEvent[]> {
  let after = req.fromSeq - 1;
  while (after < req.toSeq) {
    const page = await fetchPage(req, after);
    if ('oldestSeq' in page) {
      // never backwards: a server answering 410 twice for one position ends the paging
      if (page.oldestSeq - 1 <= after) return;
      after = page.oldestSeq - 1;
      continue;
    }
    const events = page.events.filter((e) => e.seq > after && e.seq <= req.toSeq);
    if (events.length > 0) {
      after = events[events.length - 1].seq;
      yield events;
    }
    if (!page.hasMore || events.length === 0) return;
  }
}

/** A page, or where the log now starts when the seqs asked for were removed. */
async function fetchPage(
  req: HistoryRequest,
  after: number,
): Promise<EventsPage | { oldestSeq: number }> {
  const limit = Math.max(1, Math.min(1000, req.limit));
  for (let attempt = 0; ; attempt++) {
    if (req.signal?.aborted) throw new SessionwireError('history request aborted');
    const url = `${req.urls.current}${sessionPath(req.sessionId, '/events')}?after=${after}&limit=${limit}`;
    try {
      const { body } = await requestJson<EventsPage>({ ...req, url, method: 'GET' });
      return body;
    } catch (error) {
      const oldestSeq = expiredUntil(error);
      if (oldestSeq !== undefined) return { oldestSeq };
      if (!isTransient(error) || attempt + 1 >= req.maxAttempts) throw error;
      const floor =
        error instanceof ResponseError ? parseRetryAfter(error.retryAfter, req.clock.now()) : 0;
      req.urls.advance();
      await sleep(req.clock, backoffDelay(attempt, floor, req.backoff, req.random), req.signal);
    }
  }
}

/** `oldestSeq` of a 410 `history_expired` answer (PROTOCOL §8). */
function expiredUntil(error: unknown): number | undefined {
  if (!(error instanceof HttpError) || error.status !== 410) return undefined;
  if (error.problem?.code !== 'history_expired') return undefined;
  const oldest = error.problem.oldestSeq;
  return typeof oldest === 'number' && Number.isInteger(oldest) && oldest >= 1 ? oldest : undefined;
}
