/**
 * Sessionwire client SDK: `SessionStream` (a resumable, exactly-once-in-order view of a session's
 * events) and `Outbox` (bounded, ordered, idempotent message delivery). Runs in browsers and in
 * Node 20+; uses only `fetch`, `AbortController`, `TextDecoder` and timers.
 */
export * from '../protocol';
export { SessionStream } from './session-stream';
export type {
  SessionStreamEvents,
  SessionStreamOptions,
  StreamClose,
  StreamCloseReason,
  StreamItem,
  StreamReconnect,
  StreamStatus,
} from './stream-types';
export { Outbox, isRetryable } from './outbox';
export type {
  ControlResult,
  OutboxEvents,
  OutboxMessage,
  OutboxMessageState,
  OutboxOptions,
  OutboxRestore,
} from './outbox-types';
export {
  LocalStorageOutboxStorage,
  MemoryOutboxStorage,
  type KeyValueStorage,
  type OutboxStorage,
  type StoredOutboxMessage,
} from './outbox-storage';
export { pageHistory, type HistoryRequest } from './history';
export { backoffDelay, parseRetryAfter, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
export { systemClock, type Clock } from './clock';
export type { ConnectionOptions, TokenSource } from './http';
export type { OfflineInfo, OfflineLimits } from './offline-watch';
export {
  HttpError,
  NetworkError,
  OfflineError,
  OutboxClosedError,
  OutboxFullError,
  ProtocolError,
  SessionwireError,
} from './errors';
