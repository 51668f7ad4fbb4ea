import type { BackoffOptions } from './backoff';
import type { ConnectionOptions } from './http';
import type { OfflineInfo } from './offline-watch';
import type { OutboxStorage } from './outbox-storage';

/**
 * `queued` (waiting its turn) → `sending` (POST in flight) → `retrying` (the POST failed
 * transiently; it will go again with the same id) → `accepted` (stored with `seq`) → `processed`
 * (its `turn.started` was seen); or `failed` (a definitive refusal, `error` says why).
 */
export type OutboxMessageState =
  'queued' | 'sending' | 'retrying' | 'accepted' | 'processed' | 'failed';

export interface OutboxMessage {
  readonly clientMessageId: string;
  readonly content: string;
  readonly queuedAt: number;
  state: OutboxMessageState;
  /** POST attempts so far. */
  attempts: number;
  /** The stored `message.user` event's seq, once accepted. */
  seq?: number;
  /** True when the server had already stored it (a retry after a lost response). */
  duplicate?: boolean;
  /** Why it failed, or the last transient failure while `retrying`. */
  error?: Error;
}

export interface OutboxOptions extends ConnectionOptions {
  /** Most messages waiting (queued, sending or retrying) at once. Default 100. */
  maxPending?: number;
  /** Timeout of each POST (ms). Default 10000. */
  requestTimeoutMs?: number;
  /** Retry pacing; `Retry-After` is the floor. Default base 250 ms, max 10 s. */
  backoff?: BackoffOptions;
  /** Persistence for pending messages (default: none beyond this object). */
  storage?: OutboxStorage;
  /** Makes a `clientMessageId` (default: UUID v7). */
  createId?: () => string;
  /** Accepted messages remembered while waiting for their `turn.started`. Default 1000. */
  maxTracked?: number;
}

export interface OutboxEvents extends Record<string, unknown> {
  /** Any state change of any message (a snapshot). */
  change: OutboxMessage;
  accepted: OutboxMessage;
  processed: OutboxMessage;
  failed: OutboxMessage;
  /**
   * No POST got an answer for `offlineAfterMs`; messages keep their place and are retried (until
   * `giveUpAfterMs`, if set, fails them all with `OfflineError`). Without a listener, the SDK
   * writes one `console.warn` line per period instead.
   */
  offline: OfflineInfo;
  /** A POST got an answer again after `offline`. */
  online: { offlineMs: number };
  /** A problem that did not fail a message: storage, a failed interrupt/end. */
  error: Error;
}

/** What `ready` reports after restoring from storage. */
export interface OutboxRestore {
  /** Messages put back in the queue, in their original order. */
  restored: number;
  /** Stored messages that did not fit under `maxPending`: failed with `OutboxFullError`. */
  overflow: OutboxMessage[];
}

/** Result of the fire-and-forget calls: never rejects. */
export type ControlResult<T> = { ok: true; value: T } | { ok: false; error: Error };
