import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { GapFrame, StoredEvent } from '../protocol';
import { backoffDelay, parseRetryAfter, type BackoffOptions } from './backoff';
import { sleep, systemClock, type Clock } from './clock';
import { Emitter } from './emitter';
import { HttpError, NetworkError, ProtocolError } from './errors';
import { decodeFrame, type DecodedFrame } from './frame-decoder';
import { pageHistory } from './history';
import { BaseUrlRing, readProblem, resolveToken, sessionPath, type TokenSource } from './http';
import { ItemQueue } from './item-queue';
import { OfflineWatch, offlineWarning } from './offline-watch';
import { Watchdog } from './watchdog';
import type {
  SessionStreamEvents,
  SessionStreamOptions,
  StreamClose,
  StreamCloseReason,
  StreamItem,
  StreamStatus,
} from './stream-types';

interface Attempt {
  stop?: StreamClose;
  error?: Error;
  retryAfterMs?: number;
  progressed?: boolean;
  lastedMs?: number;
}

const STOP_STATUSES: Record<number, StreamCloseReason> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
};

/**
 * A resumable subscription to one session's event stream (`GET /v1/sessions/:id/stream`).
 *
 * Guarantees: stored events reach the app in `seq` order and at most once, and, apart from ranges
 * announced by a `gap` (which `backfill` can fill), none is missed: after any network error, 5xx,
 * silent connection (no byte for 2 × `heartbeatMs`) or clean close, it reconnects with
 * `Last-Event-ID` = the last seq seen, after an exponential, fully jittered backoff that never goes
 * below the server's `retry:` (or `Retry-After`). It stops for good on `end`, 204, 401, 403, 404 or
 * another definitive 4xx, and on `close()`, which aborts the request and clears every timer.
 * With no open connection for `offlineAfterMs` it emits `offline` (with the last cause) and keeps
 * trying; with `giveUpAfterMs` set it stops after that long (`close` with reason `offline`).
 *
 * Listen with `on(...)` and call `start()`, or iterate with `for await (const item of stream)`
 * (which starts it; leaving the loop early closes the stream, like a Node stream's iterator).
 * Listeners registered after `start()` miss what came before.
 */
export class SessionStream
  extends Emitter<SessionStreamEvents>
  implements AsyncIterable<StreamItem>
{
  private readonly fetchFn: typeof fetch;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly urls: BaseUrlRing;
  private readonly token: TokenSource | undefined;
  private readonly heartbeatMs: number;
  private readonly backoff: BackoffOptions;
  private readonly resetAfterMs: number;
  private readonly bufferSize: number;
  private readonly lifetime = new AbortController();
  private readonly sinks = new Set<ItemQueue<StreamItem>>();
  private resumeReading?: () => void;
  private started = false;
  private finished = false;
  private ended = false;
  private retryMs = 0;
  private seq: number;
  private current: StreamStatus = { state: undefined, activity: undefined, headSeq: 0 };
  private dropped = 0;
  private readonly reachability: OfflineWatch;

  constructor(private readonly options: SessionStreamOptions) {
    super();
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.urls = new BaseUrlRing(options.baseUrl);
    this.token = options.token;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.backoff = options.backoff ?? {};
    this.resetAfterMs = options.resetBackoffAfterMs ?? 10_000;
    this.bufferSize = Math.max(1, options.bufferSize ?? 1000);
    this.seq = options.after ?? 0;
    this.reachability = new OfflineWatch(this.clock, options, () => this.urls.current, {
      offline: (info) => {
        if (this.listenerCount('offline') === 0) {
          globalThis.console?.warn?.(offlineWarning('the stream', info));
        }
        this.emit('offline', info);
      },
      online: (info) => this.emit('online', info),
      giveUp: (error) => this.finish({ reason: 'offline', error }),
    });
  }

  /** The last seq received (a stored event's, or a gap's `toSeq`): the resume cursor. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Events dropped because their seq was not above the last one (duplicates after a resume). */
  get duplicatesDropped(): number {
    return this.dropped;
  }

  get status(): StreamStatus {
    return { ...this.current };
  }

  get closed(): boolean {
    return this.finished;
  }

  /** Opens the connection (once); returns `this`. */
  start(): this {
    if (this.started || this.finished) return this;
    this.started = true;
    void this.run();
    return this;
  }

  /** Stops for good: aborts the request, clears timers, ends iterators; emits `close`. */
  close(): void {
    this.finish({ reason: 'closed' });
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamItem> {
    const queue: ItemQueue<StreamItem> = new ItemQueue(
      () => this.onPull(),
      () => this.close(),
    );
    if (this.finished) queue.finish();
    else this.sinks.add(queue);
    this.start();
    return queue;
  }

  /**
   * Loads the events a `gap` skipped, page by page (ascending, `fromSeq..toSeq`), from the history
   * API: what still exists (events removed by retention are skipped, so a `history_expired` gap
   * yields nothing). The stream itself is unaffected: it already continues after `toSeq`.
   */
  backfill(gap: Pick<GapFrame, 'fromSeq' | 'toSeq'>): AsyncGenerator<StoredEvent[]> {
    return pageHistory({
      fetch: this.fetchFn,
      clock: this.clock,
      random: this.random,
      urls: this.urls,
      token: this.token,
      sessionId: this.options.sessionId,
      fromSeq: gap.fromSeq,
      toSeq: gap.toSeq,
      limit: this.options.backfillPageSize ?? 1000,
      timeoutMs: this.options.requestTimeoutMs ?? 10_000,
      backoff: this.backoff,
      maxAttempts: 5,
      signal: this.lifetime.signal,
    });
  }

  /** `backfill` collected into one array. */
  async backfillAll(gap: Pick<GapFrame, 'fromSeq' | 'toSeq'>): Promise<StoredEvent[]> {
    const all: StoredEvent[] = [];
    for await (const page of this.backfill(gap)) all.push(...page);
    return all;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    this.reachability.begin();
    while (!this.finished) {
      const result = await this.connectOnce();
      if (this.finished) return;
      if (result.stop) return this.finish(result.stop);
      this.reachability.failed(result.error ?? new NetworkError('stream closed'));
      if (result.progressed || (result.lastedMs ?? 0) >= this.resetAfterMs) attempt = 0;
      const floor = Math.max(this.retryMs, result.retryAfterMs ?? 0);
      const delayMs = backoffDelay(attempt, floor, this.backoff, this.random);
      attempt += 1;
      this.urls.advance();
      const error = result.error ?? new NetworkError('stream closed');
      this.emit('reconnect', { attempt, delayMs, error });
      await sleep(this.clock, delayMs, this.lifetime.signal);
    }
  }

  private async connectOnce(): Promise<Attempt> {
    const controller = new AbortController();
    const onClose = () => controller.abort();
    this.lifetime.signal.addEventListener('abort', onClose, { once: true });
    const watchdog = new Watchdog(this.clock, 2 * this.heartbeatMs, () => controller.abort());
    const openedAt = this.clock.now();
    const startSeq = this.seq;
    const outcome = (extra: Attempt): Attempt => ({
      ...extra,
      progressed: this.seq > startSeq,
      lastedMs: this.clock.now() - openedAt,
    });
    try {
      const response = await this.open(controller.signal);
      if (response.status !== 200) return outcome(await this.rejected(response));
      this.reachability.reached();
      this.emit('open', { url: response.url, cursor: startSeq });
      if (!response.body)
        return outcome({ error: new NetworkError('stream response has no body') });
      await this.read(response.body, watchdog);
      if (this.ended) return outcome({ stop: { reason: 'ended', status: 200 } });
      return outcome({ error: new NetworkError('stream closed by the server') });
    } catch (error) {
      if (this.finished) return {};
      const reason = watchdog.fired
        ? new NetworkError(`no data for ${2 * this.heartbeatMs} ms`, error, true)
        : error instanceof Error
          ? error
          : new NetworkError(String(error), error);
      this.emit('error', reason);
      return outcome({ error: reason });
    } finally {
      watchdog.stop();
      this.lifetime.signal.removeEventListener('abort', onClose);
      controller.abort();
    }
  }

  private async open(signal: AbortSignal): Promise<Response> {
    const token = await resolveToken(this.token);
    const query =
      token && this.options.tokenInQuery ? `?access_token=${encodeURIComponent(token)}` : '';
    const url = `${this.urls.current}${sessionPath(this.options.sessionId, '/stream')}${query}`;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (token && !this.options.tokenInQuery) headers.authorization = `Bearer ${token}`;
    if (this.seq > 0) headers['last-event-id'] = String(this.seq);
    return this.fetchFn(url, { headers, signal });
  }

  private async rejected(response: Response): Promise<Attempt> {
    const problem = await readProblem(response);
    const error = new HttpError(response.status, problem);
    const { status } = response;
    if (status === 204) return { stop: { reason: 'no_content', status } };
    if (status === 408 || status === 429 || status >= 500 || (status >= 200 && status < 300)) {
      this.emit('error', error);
      return {
        error,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), this.clock.now()),
      };
    }
    return { stop: { reason: STOP_STATUSES[status] ?? 'rejected', status, problem, error } };
  }

  private async read(body: ReadableStream<Uint8Array>, watchdog: Watchdog): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = createParser({
      onEvent: (message) => this.onMessage(message),
      onRetry: (ms) => (this.retryMs = ms),
      onError: (error) => this.emit('error', new ProtocolError(`unreadable SSE: ${error.message}`)),
    });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        watchdog.touch();
        parser.feed(decoder.decode(value, { stream: true }));
        if (this.ended || this.finished) return;
        if (this.overfull()) {
          watchdog.pause();
          await new Promise<void>((resolve) => (this.resumeReading = resolve));
          watchdog.resume();
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  private onMessage(message: EventSourceMessage): void {
    if (this.ended || this.finished) return;
    let frame: DecodedFrame;
    try {
      frame = decodeFrame(message);
    } catch (error) {
      const id = Number(message.id);
      if (Number.isSafeInteger(id) && id > this.seq && message.event !== 'gap') this.seq = id;
      this.emit('error', error as Error);
      return;
    }
    this.apply(frame);
  }

  private apply(frame: DecodedFrame): void {
    switch (frame.kind) {
      case 'event': {
        const { event } = frame;
        if (event.seq <= this.seq) {
          this.dropped += 1;
          return;
        }
        this.seq = event.seq;
        const state = event.type === 'session.state' ? event.data.to : this.current.state;
        this.setStatus({
          ...this.current,
          state,
          headSeq: Math.max(this.current.headSeq, event.seq),
        });
        this.deliver('event', event, { kind: 'event', event });
        return;
      }
      case 'gap':
        // Only `cursor_ahead` moves the cursor back (the client must reload); any other gap
        // below the cursor announces nothing new and must not make events come twice.
        this.seq =
          frame.gap.reason === 'cursor_ahead'
            ? frame.gap.toSeq
            : Math.max(this.seq, frame.gap.toSeq);
        this.setStatus({
          state: frame.gap.state,
          activity: frame.gap.activity,
          headSeq: frame.gap.headSeq,
        });
        this.deliver('gap', frame.gap, { kind: 'gap', gap: frame.gap });
        return;
      case 'live':
        this.setStatus({
          ...this.current,
          headSeq: Math.max(this.current.headSeq, frame.live.headSeq),
        });
        this.deliver('live', frame.live, { kind: 'live', live: frame.live });
        return;
      case 'heartbeat':
        this.setStatus({ ...frame.heartbeat });
        this.emit('heartbeat', frame.heartbeat);
        return;
      case 'end':
        this.ended = true;
        return;
      default:
        return;
    }
  }

  private deliver<K extends 'event' | 'gap' | 'live'>(
    name: K,
    value: SessionStreamEvents[K],
    item: StreamItem,
  ): void {
    this.emit(name, value);
    for (const sink of this.sinks) sink.push(item);
  }

  private setStatus(next: StreamStatus): void {
    const changed = next.state !== this.current.state || next.activity !== this.current.activity;
    this.current = next;
    if (changed) this.emit('state', { ...next });
  }

  private overfull(): boolean {
    for (const sink of this.sinks) if (sink.length >= this.bufferSize) return true;
    return false;
  }

  private onPull(): void {
    if (!this.resumeReading) return;
    for (const sink of this.sinks) if (sink.length > this.bufferSize / 2) return;
    const resume = this.resumeReading;
    this.resumeReading = undefined;
    resume();
  }

  private finish(close: StreamClose): void {
    if (this.finished) return;
    this.finished = true;
    this.reachability.stop();
    this.lifetime.abort();
    this.resumeReading?.();
    this.emit('close', close);
    const failure = close.error && close.reason !== 'no_content' ? close.error : undefined;
    for (const sink of this.sinks) sink.finish(failure);
    this.sinks.clear();
    this.removeAllListeners();
  }
}
