import type { StoredEvent } from '@sessionwire/transport/protocol';
import type { Database } from '../database';
import type { MessageKey } from '../message-key-lookup';
import type { SessionRow } from '../schema';
import type { PreparedEvent } from './event-validation';

/** A transaction or the database itself: anything that runs queries. Library-internal. */
export type Executor = Parameters<Parameters<Database['transaction']>[0]>[0] | Database;

/** Lease columns a command changes besides what its events fold into the row. */
export interface LeaseChange {
  owner: string | null;
  leaseEpoch: number;
  /** Lease length from the commit's `now()`; `null` clears `lease_expires_at`. */
  leaseMs: number | null;
}

/** What a command decided on its session's (working) row. `events: []` writes nothing. */
export interface Decision<R> {
  events: PreparedEvent[];
  /** `client_message_id` of the `message.user` event among `events`. */
  clientMessageId?: string;
  lease?: LeaseChange;
  /**
   * The caller's answer, computed after commit: `stored` are this command's events as committed,
   * `row` the session right after it, `find` any event of the batch or looked up for it.
   */
  result(
    stored: StoredEvent[],
    row: SessionRow,
    find: (sessionId: string, seq: number) => StoredEvent,
  ): R;
}

/**
 * A command as the one-statement append takes it: events the statement can apply, the lease epoch
 * to check, and for a `message.user` its idempotency key (the key already stored, in
 * `message_keys` or earlier in the batch, is passed to `result` as `duplicate`). `result` may
 * refuse by throwing a `DomainError`.
 */
export interface StatementForm<R> {
  events: PreparedEvent[];
  leaseEpoch?: number;
  message?: { clientMessageId: string; content: string };
  result(stored: StoredEvent[], duplicate?: MessageKey): R;
}

/**
 * A message already stored under a `clientMessageId`: a `message_keys` row (with `createdAt`), or
 * a message earlier in this batch (without: its event is in the batch, found by seq).
 */
export type KnownMessage = Omit<MessageKey, 'createdAt'> & { createdAt?: string };

export interface BatchContext {
  message(sessionId: string, clientMessageId: string): KnownMessage | undefined;
}

/**
 * One write to one session, decided on its locked row in submission order: the row it sees has
 * every earlier command of the batch applied. `decide` refuses by throwing a `DomainError`
 * (that caller only); it must not change `row`.
 */
export interface SessionCommand<R> {
  sessionId: string;
  /** Set when the one-statement path can write it (`EVENT_EFFECTS[type].statement`). */
  statement?: StatementForm<R>;
  /** The `message.user` idempotency key this command looks up before deciding. */
  clientMessageId?: string;
  decide(row: Readonly<SessionRow> | undefined, batch: BatchContext): Decision<R>;
}

/**
 * How one command of a commit ended: a value to hand out after the commit, a refusal, or `busy`
 * (its session's row was locked by another transaction, so it was left out and wrote nothing).
 */
export type Settled<R> =
  { ok: true; value: () => R } | { ok: false; error: unknown } | { ok: false; busy: true };

export interface WriteOutcome {
  settled: Settled<unknown>[];
  /** Every event the write stored, in seq order per session. */
  events: StoredEvent[];
}
