import type { StoredEvent } from '@sessionwire/transport/protocol';
import type { Database } from '../database';
import { lockedWrite } from './locked-write';
import { statementAppend } from './statement-append';
import type { SessionCommand, WriteOutcome } from './session-command';
import { neverReachedServer } from '../unavailable';
import { CommitFailedError, WriteQueueFullError } from './write-errors';

/** Called once per commit, after it, with every event it stored. See {@link WriterOptions}. */
export type CommitHook = (events: readonly StoredEvent[]) => void | Promise<void>;

/** What the pipeline reports (prometheus in the apps; see `WriteMetrics`). */
export interface WriteObserver {
  /** Writes submitted and not yet answered (waiting for a commit or in one). */
  depth(writes: number): void;
  /** One commit: how many writes it carried, which path, how it ended, how long it took. */
  committed(
    writes: number,
    path: 'statement' | 'locked',
    outcome: 'ok' | 'failed',
    seconds: number,
  ): void;
  /** Time from a write's submission to its answer. */
  waited(seconds: number): void;
}

export interface PipelineOptions {
  /** Most writes per commit; 1 turns group commit off (each write commits alone, concurrently). */
  batchMax: number;
  /**
   * Most group commits in flight at once (each on its own connection); a session is in at most
   * one of them. 1: the next batch gathers while the one commit is in flight.
   */
  commitsMax: number;
  /** Most writes waiting at once; one more is refused with {@link WriteQueueFullError}. */
  queueMax: number;
  onCommitted: CommitHook;
  onHookError: (error: unknown) => void;
  observer?: WriteObserver;
}

interface Pending {
  command: SessionCommand<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  submittedAt: number;
}

const DEADLOCK_RETRIES = 3;

/**
 * Group commit. Writes of any sessions gather in a queue while `commitsMax` commits are in flight;
 * when one ends, up to `batchMax` queued writes go to Postgres together as the next commit: one
 * statement when the effects table lets it apply every write (row-neutral appends, messages), else one transaction on their locked rows.
 * There is no timer: writes that find a commit slot free are sent in the same tick. A session has
 * at most one commit in flight: its later writes wait in the queue (in order) for that one to
 * end, while other sessions' writes take the free slots, so a batch never waits a whole commit
 * cycle behind a commit it has nothing to do with.
 *
 * Per session, writes commit in submission order; a refused write refuses only its caller; a
 * commit that fails fails every write in it, and none of it is stored. `onCommitted` is called
 * after each commit, once, with its events, before the writers are answered.
 *
 * A one-statement batch that fails on a message key another process stored meanwhile is retried
 * once on the locked path, which reads the keys after taking the row locks.
 *
 * Rows are locked in id order, so batches of several processes wait for each other's short
 * commits without deadlocking. A batch that waits for a lock longer than the connection's
 * `lock_timeout` (a stuck holder) is retried without waiting: the locked sessions' writes are left
 * out and committed alone, in order, on the side (later writes of those sessions follow them
 * there), so one stuck session cannot stall every other session's writes.
 */
export class WritePipeline {
  private queue: Pending[] = [];
  /** Group commits in flight. */
  private inFlight = 0;
  /** Sessions with a write in a group commit in flight: their queued writes wait for it. */
  private readonly committing = new Set<string>();
  private scheduled = false;
  private waiting = 0;
  /** Sessions whose writes commit alone, each with its writes in order. */
  private readonly aside = new Map<string, Pending[]>();

  constructor(
    private readonly db: Database,
    private readonly options: PipelineOptions,
  ) {}

  submit<R>(command: SessionCommand<R>): Promise<R> {
    if (this.waiting >= this.options.queueMax) {
      return Promise.reject(new WriteQueueFullError('write', this.waiting));
    }
    return new Promise<R>((resolve, reject) => {
      const pending: Pending = {
        command,
        resolve: resolve as (value: unknown) => void,
        reject,
        submittedAt: performance.now(),
      };
      this.setWaiting(this.waiting + 1);
      if (this.options.batchMax <= 1 || this.aside.has(command.sessionId)) {
        this.setAside([pending]);
        return;
      }
      this.queue.push(pending);
      if (this.inFlight < this.options.commitsMax && !this.scheduled) {
        this.scheduled = true;
        // Writes submitted in the same tick join one commit.
        queueMicrotask(() => {
          this.scheduled = false;
          this.dispatch();
        });
      }
    });
  }

  private dispatch(): void {
    while (this.inFlight < this.options.commitsMax && this.queue.length > 0) {
      const group = this.nextGroup();
      if (group.length === 0) return;
      const ids = new Set(group.map((p) => p.command.sessionId));
      for (const id of ids) this.committing.add(id);
      this.inFlight += 1;
      void this.commit(group, true).finally(() => {
        this.inFlight -= 1;
        for (const id of ids) this.committing.delete(id);
        this.dispatch();
      });
    }
  }

  /**
   * The next group: up to `batchMax` queued writes, in submission order, of sessions with no
   * commit in flight (their writes keep their places in the queue).
   */
  private nextGroup(): Pending[] {
    const { batchMax } = this.options;
    if (this.committing.size === 0) return this.queue.splice(0, batchMax);
    const group: Pending[] = [];
    const rest: Pending[] = [];
    for (const pending of this.queue) {
      if (group.length < batchMax && !this.committing.has(pending.command.sessionId)) {
        group.push(pending);
      } else rest.push(pending);
    }
    this.queue = rest;
    return group;
  }

  /**
   * Commits writes alone, one after the other per session, waiting for row locks (the unbatched
   * mode, and sessions a batch found locked). Writes of that session still queued follow them.
   */
  private setAside(writes: Pending[]): void {
    const id = writes[0].command.sessionId;
    const running = this.aside.get(id);
    if (running) {
      running.push(...writes);
      return;
    }
    const line = [...writes];
    this.queue = this.queue.filter((p) => p.command.sessionId !== id || (line.push(p), false));
    this.aside.set(id, line);
    void (async () => {
      while (line.length > 0) await this.commit([line.shift()!], true);
      this.aside.delete(id);
    })();
  }

  /** Commits a group and answers its writers (after the hook); never rejects. */
  private async commit(group: Pending[], wait: boolean): Promise<void> {
    let oneStatement = group.every((p) => p.command.statement !== undefined);
    const commands = group.map((p) => p.command);
    let started = performance.now();
    let outcome: WriteOutcome | undefined;
    let failure: unknown;
    for (let attempt = 0; ; attempt++) {
      try {
        outcome = oneStatement
          ? await statementAppend(this.db, commands, wait)
          : await this.transaction(commands, wait);
        break;
      } catch (error) {
        failure = error;
        if (oneStatement && isUniqueViolation(error)) {
          // A message key stored by another process after the statement's snapshot was taken
          // (it waited for that process's row lock): nothing was written. The locked path looks
          // the keys up again once it holds the locks, and answers that message as a duplicate.
          const seconds = (performance.now() - started) / 1000;
          this.options.observer?.committed(group.length, 'statement', 'failed', seconds);
          oneStatement = false;
          started = performance.now();
          continue;
        }
        if (isDeadlock(error) && attempt < DEADLOCK_RETRIES) continue;
        if (isLockTimeout(error) && attempt < DEADLOCK_RETRIES) {
          // In a batch: leave the locked sessions out. Alone: wait again.
          if (group.length > 1) wait = false;
          continue;
        }
        break;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const path = oneStatement ? 'statement' : 'locked';
    if (!outcome) {
      this.options.observer?.committed(group.length, path, 'failed', seconds);
      // A value Postgres refused (validation missed it): find the culprit, commit the others.
      if (group.length > 1 && isDataError(failure)) {
        for (const pending of group) await this.commit([pending], wait);
        return;
      }
      const error = commitFailed(failure, 'commit');
      for (const pending of group) this.answer(pending, () => pending.reject(error));
      return;
    }
    this.options.observer?.committed(group.length, path, 'ok', seconds);
    const busy = new Map<string, Pending[]>();
    group.forEach((pending, i) => {
      const settled = outcome.settled[i];
      if (!settled.ok && 'busy' in settled) {
        const list = busy.get(pending.command.sessionId) ?? [];
        list.push(pending);
        busy.set(pending.command.sessionId, list);
      }
    });
    for (const writes of busy.values()) this.setAside(writes);
    // The hook starts now, in commit order; the next commit need not wait for it, the writers do.
    const published = outcome.events.length > 0 ? this.publish(outcome.events) : undefined;
    const answerAll = () =>
      group.forEach((pending, i) => {
        const settled = outcome.settled[i];
        if (!settled.ok && 'busy' in settled) return;
        this.answer(pending, () => {
          if (!settled.ok) return pending.reject(settled.error);
          try {
            pending.resolve(settled.value());
          } catch (error) {
            pending.reject(error);
          }
        });
      });
    if (published) void published.then(answerAll);
    else answerAll();
  }

  private async publish(events: readonly StoredEvent[]): Promise<void> {
    try {
      await this.options.onCommitted(events);
    } catch (error) {
      this.options.onHookError(error);
    }
  }

  private async transaction(
    commands: SessionCommand<unknown>[],
    wait: boolean,
  ): Promise<WriteOutcome> {
    let decided = false;
    try {
      return await this.db.transaction(async (tx) => {
        const outcome = await lockedWrite(tx, commands, { wait });
        decided = true;
        return outcome;
      });
    } catch (error) {
      throw commitFailed(error, decided ? 'commit' : 'transaction');
    }
  }

  private answer(pending: Pending, settle: () => void): void {
    settle();
    this.setWaiting(this.waiting - 1);
    this.options.observer?.waited((performance.now() - pending.submittedAt) / 1000);
  }

  private setWaiting(value: number): void {
    this.waiting = value;
    this.options.observer?.depth(value);
  }
}

/** A server-reported SQLSTATE (the server answered, so it did not commit what failed). */
function sqlState(error: unknown): string | undefined {
  const e = driverError(error) as { code?: unknown; severity?: unknown };
  return typeof e?.code === 'string' &&
    /^[0-9A-Z]{5}$/.test(e.code) &&
    typeof e.severity === 'string'
    ? e.code
    : undefined;
}

/** The driver's own error under drizzle's `DrizzleQueryError` (whose message holds the SQL). */
export function driverError(error: unknown): unknown {
  let e = error;
  for (
    let depth = 0;
    depth < 3 && e && typeof e === 'object' && 'query' in e && 'cause' in e;
    depth++
  ) {
    e = (e as { cause: unknown }).cause;
  }
  return e;
}

function causeOf(error: unknown): unknown {
  return error instanceof CommitFailedError ? error.cause : error;
}

function isLockTimeout(error: unknown): boolean {
  return sqlState(causeOf(error)) === '55P03';
}

function isUniqueViolation(error: unknown): boolean {
  return sqlState(causeOf(error)) === '23505';
}

function isDeadlock(error: unknown): boolean {
  const code = sqlState(causeOf(error));
  return code === '40P01' || code === '40001';
}

/** Data exceptions (22…) and integrity violations (23…): caused by a value, not the connection. */
function isDataError(error: unknown): boolean {
  const code = sqlState(causeOf(error));
  return code !== undefined && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * A failure inside an open transaction, one the server reported, or a connection that could not
 * be opened stored nothing; a connection lost while COMMIT (or the one autocommitted statement)
 * was running may have stored everything.
 */
function commitFailed(error: unknown, during: 'transaction' | 'commit'): CommitFailedError {
  if (error instanceof CommitFailedError) return error;
  const cause = driverError(error);
  const stored = during === 'commit' && sqlState(error) === undefined && !neverReachedServer(cause);
  return new CommitFailedError(stored ? 'unknown' : 'rolled_back', cause);
}
