/** Anything that runs one SQL statement: a `pg` Client or a PGlite instance. */
export interface SqlClient {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** One partition of `events` and the `created_at` range it holds (`[from, to)`). */
export interface EventPartition {
  name: string;
  /** Undefined: from the beginning of time (MINVALUE). */
  from?: Date;
  /** Undefined: to the end of time (MAXVALUE). */
  to?: Date;
  isDefault: boolean;
}

export interface MaintenanceOptions {
  now?: Date;
  /** Daily partitions kept ready from today on, today included (default 3). */
  aheadDays?: number;
  /** Drop what is older than this many days; undefined keeps everything. */
  retentionDays?: number;
  /** How long one DDL statement waits for its lock before it retries (default 500 ms). */
  lockTimeoutMs?: number;
  /** Tries per DDL statement that keeps timing out on its lock (default 40). */
  maxAttempts?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface MaintenanceResult {
  created: string[];
  dropped: string[];
  /** Days no partition could be created for: `events_default` already holds rows of them. */
  skipped: string[];
  /** Events older than this are gone (undefined: nothing was to be removed). */
  cutoff?: Date;
}

const DAY_MS = 86_400_000;
const PARENT = 'events';
const DEFAULT_PARTITION = 'events_default';

/** The partitions of `events` with their ranges (the session's TimeZone must be UTC). */
export async function listEventPartitions(client: SqlClient): Promise<EventPartition[]> {
  const { rows } = await client.query(
    `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
     from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = to_regclass($1)`,
    [PARENT],
  );
  return rows.map((row) => {
    const bound = String(row.bound);
    const range = /FROM \((.+)\) TO \((.+)\)/.exec(bound);
    // '2026-12-02 00:00:00+00' (the session's TimeZone) as ISO 8601
    const at = (value: string) =>
      /^(MINVALUE|MAXVALUE)$/.test(value)
        ? undefined
        : new Date(
            value
              .replace(/^'|'$/g, '')
              .replace(' ', 'T')
              .replace(/([+-]\d\d)$/, '$1:00'),
          );
    return {
      name: String(row.name),
      from: range ? at(range[1]) : undefined,
      to: range ? at(range[2]) : undefined,
      isDefault: bound === 'DEFAULT',
    };
  });
}

/**
 * Keeps `events` partitioned: creates the daily partitions of the next `aheadDays` days (UTC)
 * that are missing, then, with `retentionDays`, drops whole partitions whose every row is older
 * than `now - retentionDays`. Never deletes a row.
 *
 * The removed rows are always a prefix of each session's log (all rows older than one instant):
 * `created_at` never decreases along a session's seqs, partitions are dropped oldest first, and
 * while `events_default` holds rows (a run was missed and no partition covered their day),
 * nothing newer than its oldest row is dropped; it is itself replaced by an empty one once all
 * its rows are old enough.
 *
 * Each DDL statement runs in its own short transaction with `lock_timeout` and is retried, so
 * appends wait at most that long behind a drop. Callers serialize runs (see `runRetention`);
 * a run that finds everything done changes nothing.
 */
export async function maintainEventPartitions(
  client: SqlClient,
  options: MaintenanceOptions = {},
): Promise<MaintenanceResult> {
  const now = options.now ?? new Date();
  const ddl = new Ddl(client, options);
  const result: MaintenanceResult = { created: [], dropped: [], skipped: [] };
  let partitions = await listEventPartitions(client);
  if (!partitions.some((p) => p.isDefault)) {
    throw new Error('events is not partitioned: run the migrations first (npm run db:migrate)');
  }
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  for (let day = 0; day < (options.aheadDays ?? 3); day++) {
    const from = new Date(today + day * DAY_MS);
    const to = new Date(from.getTime() + DAY_MS);
    if (partitions.some((p) => !p.isDefault && covers(p, from, to))) continue;
    const name = `events_p${from.toISOString().slice(0, 10).replaceAll('-', '')}`;
    if (await defaultHoldsRows(client, from, to)) {
      options.log?.('events_default holds rows of this day; no partition created', { name });
      result.skipped.push(name);
      continue;
    }
    await ddl.run([
      `create table "${name}" (like "${PARENT}" including defaults including constraints)`,
      `alter table "${name}" add primary key (session_id, seq)`,
      `alter table "${PARENT}" attach partition "${name}" for values from ('${from.toISOString()}') to ('${to.toISOString()}')`,
    ]);
    result.created.push(name);
  }
  if (options.retentionDays === undefined) return result;

  result.cutoff = new Date(now.getTime() - options.retentionDays * DAY_MS);
  partitions = await listEventPartitions(client);
  const held = await defaultRange(client);
  const defaultIsOld = held !== undefined && held.newest < result.cutoff;
  const limit = held && !defaultIsOld ? min(result.cutoff, held.oldest) : result.cutoff;
  const removals = partitions
    .filter((p) => !p.isDefault && p.to && p.to <= limit)
    .map((p) => ({
      name: p.name,
      until: p.to!,
      drop: () => ddl.run([`drop table "${p.name}"`]),
    }));
  if (held && defaultIsOld) {
    removals.push({
      name: DEFAULT_PARTITION,
      until: held.newest,
      drop: () => replaceDefault(ddl, result.cutoff!),
    });
  }
  removals.sort((a, b) => a.until.getTime() - b.until.getTime());
  for (const removal of removals) {
    // oldest first; anything newer than a unit that stays must stay too
    if (!(await removal.drop())) break;
    result.dropped.push(removal.name);
  }
  return result;
}

function covers(p: EventPartition, from: Date, to: Date): boolean {
  return (p.from === undefined || p.from <= from) && (p.to === undefined || p.to >= to);
}

function min(a: Date, b: Date): Date {
  return a < b ? a : b;
}

async function defaultHoldsRows(client: SqlClient, from: Date, to: Date): Promise<boolean> {
  const { rows } = await client.query(
    `select 1 from "${DEFAULT_PARTITION}" where created_at >= $1 and created_at < $2 limit 1`,
    [from.toISOString(), to.toISOString()],
  );
  return rows.length > 0;
}

async function defaultRange(
  client: SqlClient,
): Promise<{ oldest: Date; newest: Date } | undefined> {
  const { rows } = await client.query(
    `select min(created_at) as oldest, max(created_at) as newest from "${DEFAULT_PARTITION}"`,
  );
  const { oldest, newest } = rows[0] ?? {};
  if (!oldest || !newest) return undefined;
  return { oldest: new Date(oldest as string), newest: new Date(newest as string) };
}

/**
 * Swaps `events_default` for an empty one, in one transaction under the parent's lock, unless a
 * row at or after `cutoff` arrived meanwhile (then nothing changes).
 */
async function replaceDefault(ddl: Ddl, cutoff: Date): Promise<boolean> {
  return ddl.run(
    [
      `alter table "${PARENT}" detach partition "${DEFAULT_PARTITION}"`,
      `do $$ begin
         if exists (select 1 from "${DEFAULT_PARTITION}" where created_at >= '${cutoff.toISOString()}') then
           raise exception 'events_default received new rows' using errcode = 'SWKEP';
         end if;
       end $$`,
      `drop table "${DEFAULT_PARTITION}"`,
      `create table "${DEFAULT_PARTITION}" partition of "${PARENT}" default`,
      `alter table "${DEFAULT_PARTITION}" add primary key (session_id, seq)`,
      `create index "${DEFAULT_PARTITION}_created_at_idx" on "${DEFAULT_PARTITION}" (created_at)`,
    ],
    { keepOn: 'SWKEP' },
  );
}

/** Runs DDL in short transactions with a lock timeout, retrying while the lock is busy. */
class Ddl {
  private readonly lockTimeoutMs: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly client: SqlClient,
    private readonly options: MaintenanceOptions,
  ) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 500;
    this.maxAttempts = options.maxAttempts ?? 40;
  }

  /** True when committed; false when a statement raised `keepOn` (nothing changed). */
  async run(statements: string[], { keepOn }: { keepOn?: string } = {}): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      await this.client.query('begin');
      try {
        await this.client.query(`set local lock_timeout = ${Math.round(this.lockTimeoutMs)}`);
        for (const statement of statements) await this.client.query(statement);
        await this.client.query('commit');
        return true;
      } catch (error) {
        await this.client.query('rollback');
        const code = (error as { code?: string }).code;
        if (keepOn && code === keepOn) return false;
        // 55P03 lock_not_available: someone holds the table; appends are queued behind us
        if (code !== '55P03' || attempt >= this.maxAttempts) throw error;
        this.options.log?.('lock busy; retrying', { statement: statements[0], attempt });
        const backoff = Math.min(2000, 100 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random());
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  }
}
