import { v7 as uuidv7 } from 'uuid';
import type { InterruptAccepted, MessageAccepted, Session, StoredEvent } from '../protocol';
import { backoffDelay, parseRetryAfter, type BackoffOptions } from './backoff';
import { sleep, systemClock, type Clock } from './clock';
import { Emitter } from './emitter';
import { NetworkError, OfflineError, OutboxClosedError, OutboxFullError } from './errors';
import { BaseUrlRing, requestJson, ResponseError, sessionPath } from './http';
import type {
  ControlResult,
  OutboxEvents,
  OutboxMessage,
  OutboxOptions,
  OutboxRestore,
} from './outbox-types';
import type { StoredOutboxMessage } from './outbox-storage';
import { OfflineWatch, offlineWarning } from './offline-watch';

const DEFAULT_OUTBOX_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 10_000, minMs: 100 };

/** Worth another try with the same id: no answer, 408, 429, 5xx, or a 404 that is not the session's. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (!(error instanceof ResponseError)) return false;
  const { status } = error;
  if (status === 404) return error.code !== 'session_not_found';
  return status === 408 || status === 429 || status >= 500;
}

function snapshot(message: OutboxMessage): OutboxMessage {
  return { ...message };
}

/**
 * Sends a session's user messages reliably and in order.
 *
 * Guarantees: every message gets a `clientMessageId` (UUID v7) once, and every POST of it carries
 * that id, so a retry after a lost response never stores it twice (the server answers 200
 * `duplicate`, counted as accepted). One POST is in flight at a time, so messages are stored in
 * `send` order. Network errors, timeouts, 408, 429, 5xx and 404s other than `session_not_found`
 * are retried indefinitely with jittered backoff (at least `Retry-After`), rotating base URLs;
 * any other 4xx (400, 401, 403, 409, 413, …) fails that message with the server's problem and the
 * next one proceeds. At most `maxPending` messages wait at once (queued + sending + retrying),
 * including those restored from storage; beyond that `send` rejects with `OutboxFullError`. No
 * message is dropped silently: each ends `accepted`/`processed` or `failed` with an error.
 * When no POST got an answer for `offlineAfterMs` it emits `offline` and keeps retrying; with
 * `giveUpAfterMs` set, every pending message fails with `OfflineError` after that long.
 */
export class Outbox extends Emitter<OutboxEvents> {
  /** Resolves once stored messages were restored; `send` waits for it. */
  readonly ready: Promise<OutboxRestore>;
  private readonly fetchFn: typeof fetch;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly urls: BaseUrlRing;
  private readonly maxPending: number;
  private readonly maxTracked: number;
  private readonly createId: () => string;
  private readonly pending: OutboxMessage[] = [];
  private readonly awaitingTurn = new Map<number, OutboxMessage>();
  private readonly startedInputs = new Set<number>();
  private readonly settledWaiters = new Map<string, ((m: OutboxMessage) => void)[]>();
  private readonly recentlySettled = new Map<string, OutboxMessage>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly lifetime = new AbortController();
  private saving: Promise<void> = Promise.resolve();
  private pumping = false;
  private closed = false;
  private readonly reachability: OfflineWatch;
  private gaveUp: OfflineError | undefined;
  private retryWait = new AbortController();

  constructor(private readonly options: OutboxOptions) {
    super();
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.urls = new BaseUrlRing(options.baseUrl);
    this.maxPending = Math.max(1, options.maxPending ?? 100);
    this.maxTracked = Math.max(1, options.maxTracked ?? 1000);
    this.createId = options.createId ?? (() => uuidv7());
    this.reachability = new OfflineWatch(this.clock, options, () => this.urls.current, {
      offline: (info) => {
        if (this.listenerCount('offline') === 0) {
          globalThis.console?.warn?.(offlineWarning('the outbox', info));
        }
        this.emit('offline', info);
      },
      online: (info) => this.emit('online', info),
      giveUp: (error) => {
        this.gaveUp = error;
        this.retryWait.abort();
      },
    });
    this.ready = this.restore();
  }

  /** Messages waiting (queued, sending or retrying), oldest first, as snapshots. */
  get messages(): OutboxMessage[] {
    return this.pending.map(snapshot);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Queues `content`. Resolves with the queued message once it is in the queue (and handed to
   * storage); rejects with `OutboxFullError` when `maxPending` messages wait, `OutboxClosedError`
   * after `close()`. Follow it with `on('accepted' | 'failed' | 'processed')` or `settled(id)`.
   */
  async send(content: string): Promise<OutboxMessage> {
    if (this.closed) throw new OutboxClosedError();
    await this.ready;
    if (this.closed) throw new OutboxClosedError();
    if (this.pending.length >= this.maxPending) throw new OutboxFullError(this.maxPending);
    const message: OutboxMessage = {
      clientMessageId: this.createId(),
      content,
      queuedAt: this.clock.now(),
      state: 'queued',
      attempts: 0,
    };
    this.pending.push(message);
    const queued = snapshot(message);
    this.emit('change', queued);
    await this.persist();
    this.pump();
    return queued;
  }

  /**
   * Resolves when the message is accepted or failed (at once if it already is and is among the
   * last `maxTracked` settled messages).
   */
  settled(clientMessageId: string): Promise<OutboxMessage> {
    const done = this.recentlySettled.get(clientMessageId);
    if (done) return Promise.resolve(snapshot(done));
    return new Promise((resolve) => {
      const waiters = this.settledWaiters.get(clientMessageId) ?? [];
      waiters.push(resolve);
      this.settledWaiters.set(clientMessageId, waiters);
    });
  }

  /** Resolves when nothing is waiting to be sent, or the outbox is closed. */
  async whenIdle(): Promise<void> {
    await this.ready;
    if (this.pending.length === 0 || this.closed) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Feeds a stream event: a `turn.started` marks the message it answers (`inputSeq`) `processed`.
   * Wire a stream with `attach`, or call this from your own event handler.
   */
  observe(event: StoredEvent): void {
    if (event.type !== 'turn.started') return;
    const message = this.awaitingTurn.get(event.data.inputSeq);
    if (!message) {
      this.remember(this.startedInputs, event.data.inputSeq);
      return;
    }
    this.awaitingTurn.delete(event.data.inputSeq);
    this.markProcessed(message);
  }

  /** Observes every event of `stream`; returns the function that stops it. */
  attach(stream: {
    on(name: 'event', listener: (event: StoredEvent) => void): () => void;
  }): () => void {
    return stream.on('event', (event) => this.observe(event));
  }

  /** Asks the running turn to stop. Not queued, not retried; never rejects. */
  interrupt(): Promise<ControlResult<InterruptAccepted>> {
    return this.control<InterruptAccepted>('/interrupt');
  }

  /** Ends the session. Not queued, not retried; never rejects. */
  end(): Promise<ControlResult<Session>> {
    return this.control<Session>('/end');
  }

  /**
   * Stops sending: aborts the POST in flight and pending retries. Pending messages stay in storage
   * (a new `Outbox` on the same storage sends them again, with the same ids).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reachability.stop();
    this.lifetime.abort();
    this.retryWait.abort();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async restore(): Promise<OutboxRestore> {
    const { storage, sessionId } = this.options;
    const result: OutboxRestore = { restored: 0, overflow: [] };
    if (!storage) return result;
    let stored: StoredOutboxMessage[];
    try {
      stored = await storage.load(sessionId);
    } catch (error) {
      this.emit('error', new Error(`outbox: could not load stored messages: ${String(error)}`));
      return result;
    }
    const seen = new Set<string>();
    for (const entry of stored) {
      if (seen.has(entry.clientMessageId)) continue;
      seen.add(entry.clientMessageId);
      const message: OutboxMessage = { ...entry, state: 'queued', attempts: 0 };
      if (this.pending.length >= this.maxPending) {
        message.state = 'failed';
        message.error = new OutboxFullError(this.maxPending);
        result.overflow.push(message);
        this.emit('change', snapshot(message));
        this.emit('failed', snapshot(message));
        continue;
      }
      this.pending.push(message);
      result.restored += 1;
      this.emit('change', snapshot(message));
    }
    if (result.overflow.length > 0) await this.persist();
    this.pump();
    return result;
  }

  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    void this.drain()
      .catch((error: unknown) => this.emit('error', error as Error))
      .finally(() => {
        this.pumping = false;
        if (this.pending.length > 0 && !this.closed) return this.pump();
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.pending.length > 0) await this.deliver(this.pending[0]);
  }

  private async deliver(message: OutboxMessage): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      message.attempts += 1;
      this.setState(message, 'sending');
      const startedAt = this.clock.now();
      let answer: MessageAccepted;
      try {
        answer = await this.post(message);
      } catch (error) {
        if (this.closed) return;
        if (!isRetryable(error)) {
          this.reachability.reached();
          return this.fail(message, error as Error);
        }
        this.reachability.failed(error as Error, startedAt);
        const floor =
          error instanceof ResponseError ? parseRetryAfter(error.retryAfter, this.clock.now()) : 0;
        message.error = error as Error;
        this.urls.advance();
        this.setState(message, 'retrying');
        const backoff = { ...DEFAULT_OUTBOX_BACKOFF, ...this.options.backoff };
        const delay = backoffDelay(attempt, floor, backoff, this.random);
        if (!this.gaveUp) await sleep(this.clock, delay, this.retryWait.signal);
        if (this.gaveUp) return this.failAllPending(this.gaveUp);
        continue;
      }
      this.reachability.reached();
      return this.accept(message, answer);
    }
  }

  private async post(message: OutboxMessage): Promise<MessageAccepted> {
    const { body } = await requestJson<MessageAccepted>({
      fetch: this.fetchFn,
      clock: this.clock,
      url: `${this.urls.current}${sessionPath(this.options.sessionId, '/messages')}`,
      method: 'POST',
      token: this.options.token,
      body: { clientMessageId: message.clientMessageId, content: message.content },
      timeoutMs: this.options.requestTimeoutMs ?? 10_000,
      signal: this.lifetime.signal,
    });
    if (typeof body?.seq !== 'number') {
      throw new NetworkError(`unexpected answer to a message POST: ${JSON.stringify(body)}`);
    }
    return body;
  }

  private async accept(message: OutboxMessage, body: MessageAccepted): Promise<void> {
    this.pending.shift();
    message.seq = body.seq;
    message.duplicate = body.duplicate;
    message.error = undefined;
    this.setState(message, 'accepted');
    this.emit('accepted', snapshot(message));
    this.resolveSettled(message);
    if (this.startedInputs.delete(body.seq)) this.markProcessed(message);
    else {
      this.awaitingTurn.set(body.seq, message);
      if (this.awaitingTurn.size > this.maxTracked) {
        this.awaitingTurn.delete(this.awaitingTurn.keys().next().value as number);
      }
    }
    await this.persist();
  }

  private async fail(message: OutboxMessage, error: Error): Promise<void> {
    this.pending.shift();
    message.error = error;
    this.setState(message, 'failed');
    this.emit('failed', snapshot(message));
    this.resolveSettled(message);
    await this.persist();
  }

  /** Gave up: every pending message fails with the same error; a later `send` starts afresh. */
  private async failAllPending(error: OfflineError): Promise<void> {
    this.gaveUp = undefined;
    this.retryWait = new AbortController();
    while (this.pending.length > 0) await this.fail(this.pending[0], error);
  }

  private markProcessed(message: OutboxMessage): void {
    this.setState(message, 'processed');
    this.emit('processed', snapshot(message));
  }

  private setState(message: OutboxMessage, state: OutboxMessage['state']): void {
    message.state = state;
    this.emit('change', snapshot(message));
  }

  private resolveSettled(message: OutboxMessage): void {
    this.recentlySettled.set(message.clientMessageId, message);
    if (this.recentlySettled.size > this.maxTracked) {
      this.recentlySettled.delete(this.recentlySettled.keys().next().value as string);
    }
    const waiters = this.settledWaiters.get(message.clientMessageId);
    this.settledWaiters.delete(message.clientMessageId);
    for (const resolve of waiters ?? []) resolve(snapshot(message));
  }

  private remember(set: Set<number>, value: number): void {
    set.add(value);
    if (set.size > this.maxTracked) set.delete(set.values().next().value as number);
  }

  /** Saves the pending list; saves run one after another, each writing the list as it is then. */
  private persist(): Promise<void> {
    const { storage, sessionId } = this.options;
    if (!storage) return Promise.resolve();
    this.saving = this.saving.then(async () => {
      const list: StoredOutboxMessage[] = this.pending.map((m) => ({
        clientMessageId: m.clientMessageId,
        content: m.content,
        queuedAt: m.queuedAt,
      }));
      try {
        await storage.save(sessionId, list);
      } catch (error) {
        this.emit('error', new Error(`outbox: could not save pending messages: ${String(error)}`));
      }
    });
    return this.saving;
  }

  private async control<T>(suffix: string): Promise<ControlResult<T>> {
    try {
      const { body } = await requestJson<T>({
        fetch: this.fetchFn,
        clock: this.clock,
        url: `${this.urls.current}${sessionPath(this.options.sessionId, suffix)}`,
        method: 'POST',
        token: this.options.token,
        body: {},
        timeoutMs: this.options.requestTimeoutMs ?? 10_000,
      });
      return { ok: true, value: body };
    } catch (error) {
      this.emit('error', error as Error);
      return { ok: false, error: error as Error };
    }
  }
}
