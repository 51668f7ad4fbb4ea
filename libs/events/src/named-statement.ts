import { createHash } from 'node:crypto';
import type { Query, SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Database } from './database';

/** A drizzle database or transaction: both have `_.session`. */
type Executor = Pick<Database, '_'>;

const dialect = new PgDialect();
/** Statement names by SQL text: a call site's text is the same on every call. */
const names = new Map<string, string>();

/**
 * A statement of fixed text, run as a named prepared statement (node-postgres; PGlite ignores the
 * name): Postgres parses it once per connection, and once a generic plan costs no more than the
 * custom ones (judged after five runs) it plans it once too. For the statements every commit and
 * every batched read runs, whose rows travel in one JSON or array parameter, parse and plan are
 * most of what Postgres spends on a small batch. Its values are drizzle placeholders
 * (`sql.placeholder('name')`), so the text is rendered once, on the first run, not on every
 * call. The name is derived from the text, so two texts never share a name.
 * `DATABASE_NAMED_STATEMENTS=off` turns names off at the connection (see `connectPostgres`), for
 * a proxy that cannot keep prepared statements.
 */
export class NamedStatement<V extends Record<string, unknown>> {
  private rendered?: { query: Query; name: string };

  /** `text` builds the statement; it is called once, on the first run. */
  constructor(private readonly text: () => SQL) {}

  /** Runs it with `values` for its placeholders; returns the driver's result (`rows` as objects). */
  run(executor: Executor, values: V): Promise<unknown> {
    if (!this.rendered) {
      const query = dialect.sqlToQuery(this.text());
      this.rendered = { query, name: nameOf(query.sql) };
    }
    const { query, name } = this.rendered;
    return executor._.session.prepareQuery(query, undefined, name, false).execute(values);
  }
}

/** A drizzle query builder (select, insert, update) with its values bound. */
interface Preparable<R> {
  toSQL(): { sql: string };
  prepare(name: string): { execute(): Promise<R> };
}

/** Statement names by call site: a builder's text is rendered once per site, not on every call. */
const siteNames = new Map<string, string>();

/**
 * Runs a query builder's query as a named prepared statement (see {@link NamedStatement}). `site`
 * names the call site and must stand for one text: the builder's text is rendered only the first
 * time (rendering it costs as much as the builder's own rendering when it runs). A site that
 * rendered two texts would fail loudly: node-postgres refuses one name for two statements.
 */
export function runNamed<R>(site: string, query: Preparable<R>): Promise<R> {
  let name = siteNames.get(site);
  if (name === undefined) {
    name = nameOf(query.toSQL().sql);
    siteNames.set(site, name);
  }
  return query.prepare(name).execute();
}

function nameOf(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `sw_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}
