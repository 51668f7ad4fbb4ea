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
 * The first seq still stored, when a history read was refused because retention removed the seqs
 * it asked for (`410 history_expired` with `oldestSeq`, PROTOCOL §8); otherwise undefined.
 */
function oldestStoredSeq(error: unknown): number | undefined {
  if (!(error instanceof HttpError) || error.status !== 410 || error.code !== 'history_expired') {
    return undefined;
  }
  const oldest = (error.problem as { oldestSeq?: unknown } | undefined)?.oldestSeq;
  return typeof oldest === 'number' && Number.isSafeInteger(oldest) ? oldest : undefined;
}

/**
 * Pages `GET /v1/sessions/:id/events?after=…&limit=…` from `fromSeq` through `toSeq`, yielding each
 * page's events (ascending, never beyond `toSeq`) until `toSeq` is reached or the log has no more.
 * Events that retention removed are skipped: on `410 history_expired` the paging goes on from the
 * oldest seq still stored, so the caller gets what still exists (nothing for a `history_expired`
 * gap). Transient failures (network, 408, 429, 5xx) are retried with backoff on the next base URL;
 * other definitive ones throw `HttpError`.
 */
export async function* pageHistory(req: HistoryRequest): AsyncGenerator<StoredEvent[]> {
  let after = req.fromSeq - 1;
  while (after < req.toSeq) {
    let page: EventsPage;
    try {
      page = await fetchPage(req, after);
    } catch (error) {
      const oldest = oldestStoredSeq(error);
      if (oldest === undefined || oldest - 1 <= after) throw error;
      after = oldest - 1;
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

async function fetchPage(req: HistoryRequest, after: number): Promise<EventsPage> {
  const limit = Math.max(1, Math.min(1000, req.limit));
  for (let attempt = 0; ; attempt++) {
    if (req.signal?.aborted) throw new SessionwireError('history request aborted');
    const url = `${req.urls.current}${sessionPath(req.sessionId, '/events')}?after=${after}&limit=${limit}`;
    try {
      const { body } = await requestJson<EventsPage>({ ...req, url, method: 'GET' });
      return body;
    } catch (error) {
      if (!isTransient(error) || attempt + 1 >= req.maxAttempts) throw error;
      const floor =
        error instanceof ResponseError ? parseRetryAfter(error.retryAfter, req.clock.now()) : 0;
      req.urls.advance();
      await sleep(req.clock, backoffDelay(attempt, floor, req.backoff, req.random), req.signal);
    }
  }
}
