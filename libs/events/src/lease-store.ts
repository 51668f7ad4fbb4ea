import { Injectable } from '@nestjs/common';
import { EventStore } from './event-store';
import type { SessionWriter, Lease } from './write/session-writer';
import type { SessionChange } from './write/session-commands';

export type { Lease } from './write/session-writer';
export type { SessionChange } from './write/session-commands';

/**
 * Session ownership by workers: Postgres leases with a fencing epoch. Writes go through the
 * store's {@link SessionWriter}.
 *
 * Guarantees:
 * - A session has at most one owner; `lease_epoch` grows at every claim, release, detach and end,
 *   so a worker that lost its lease can never append or transition again.
 * - Claiming uses `FOR UPDATE SKIP LOCKED`: concurrent workers never claim the same session and
 *   never wait on each other.
 * - An expired lease is turned into DETACHED in one transaction that closes the open turn as
 *   `worker_lost`; the turn is not re-run.
 */
@Injectable()
export class LeaseStore {
  private readonly writer: SessionWriter;

  constructor(store: EventStore) {
    this.writer = store.writer;
  }

  /** Claims up to `limit` sessions with pending input: → STARTING, owned by `owner`, new epoch. */
  claim(owner: string, leaseMs: number, limit: number): Promise<SessionChange[]> {
    return this.writer.claim(owner, leaseMs, limit);
  }

  /** Extends the given leases in one query; returns the ids still held (others were lost). */
  renew(owner: string, leases: readonly Lease[], leaseMs: number): Promise<Set<string>> {
    return this.writer.renew(owner, leases, leaseMs);
  }

  /** Gives a session up (ACTIVE → SUSPENDED, STARTING → DETACHED); pending input stays claimable. */
  release(lease: Lease, reason: string): Promise<SessionChange> {
    return this.writer.release(lease, reason);
  }

  /**
   * Detaches up to `limit` sessions whose lease expired: the open turn (if any) is closed with
   * `worker_lost`, the state goes to DETACHED and the epoch is bumped, in one transaction.
   */
  detachExpired(limit: number): Promise<SessionChange[]> {
    return this.writer.detachExpired(limit);
  }

  /**
   * Ends a session in one commit: a running turn gets `turn.completed` (`interrupted`), the
   * state goes to ENDED and the epoch is bumped, so its worker can append nothing more. Ending an
   * ENDED session changes nothing and returns no events.
   */
  end(sessionId: string, reason = 'ended_by_user'): Promise<SessionChange> {
    return this.writer.end(sessionId, reason);
  }
}
