import { eq } from 'drizzle-orm';
import type { Database } from './database';
import { sessions } from './schema';

const DAY_MS = 86_400_000;

/**
 * Per session, a lower bound of its events' `created_at`: the UTC day it was created (no event of
 * a session is older than the session, since `created_at` never decreases along its seqs and its
 * first event is written with it). Reads add `created_at >= bound` with the bound as a parameter,
 * so Postgres prunes every partition older than the session at planning time: a read touches the
 * partitions since the session began, not all of them.
 *
 * `sessions.created_at` never changes, so a bound once known is cached (most recently used
 * first, at most `maxEntries`). Only existing sessions are cached.
 */
export class SessionBounds {
  private readonly bounds = new Map<string, Date>();

  constructor(
    private readonly db: Database,
    private readonly maxEntries = 50_000,
  ) {}

  /** Records a session row seen elsewhere (a create, a lock, a lookup). */
  note(sessionId: string, createdAt: Date): void {
    this.remember(sessionId, new Date(Math.floor(createdAt.getTime() / DAY_MS) * DAY_MS));
  }

  /** The bound of a session; undefined when the session does not exist. */
  async of(sessionId: string): Promise<Date | undefined> {
    const known = this.bounds.get(sessionId);
    if (known) {
      this.remember(sessionId, known);
      return known;
    }
    const [row] = await this.db
      .select({ createdAt: sessions.createdAt })
      .from(sessions)
      .where(eq(sessions.id, sessionId));
    if (!row) return undefined;
    this.note(sessionId, row.createdAt);
    return this.bounds.get(sessionId);
  }

  private remember(sessionId: string, bound: Date): void {
    this.bounds.delete(sessionId);
    this.bounds.set(sessionId, bound);
    if (this.bounds.size > this.maxEntries) {
      this.bounds.delete(this.bounds.keys().next().value!);
    }
  }
}
