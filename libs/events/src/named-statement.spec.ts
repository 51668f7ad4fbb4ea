import { sql, type Query } from 'drizzle-orm';
import { NamedStatement } from './named-statement';

/** An executor that records what each run would send to the driver. */
function recorder() {
  const sent: { name: string; text: string; params: unknown[] }[] = [];
  const executor = {
    _: {
      session: {
        prepareQuery: (query: Query, _fields: unknown, name: string) => ({
          execute: async (values: Record<string, unknown>) => {
            const params = query.params.map((p) =>
              typeof p === 'object' && p !== null && 'name' in p
                ? values[(p as { name: string }).name]
                : p,
            );
            sent.push({ name, text: query.sql, params });
            return { rows: [] };
          },
        }),
      },
    },
  };
  return { sent, executor: executor as unknown as Parameters<NamedStatement<never>['run']>[0] };
}

describe(NamedStatement.name, () => {
  it('renders its text once and sends each run its own values under one name', async () => {
    let renders = 0;
    const statement = new NamedStatement<{ ids: string[]; n: number }>(() => {
      renders++;
      return sql`select * from unnest(${sql.placeholder('ids')}::uuid[]) limit ${sql.placeholder('n')}`;
    });
    const { sent, executor } = recorder();
    await statement.run(executor, { ids: ['a', 'b'], n: 2 });
    await statement.run(executor, { ids: ['c'], n: 1 });
    expect(renders).toBe(1);
    expect(sent.map((s) => s.params)).toEqual([
      [['a', 'b'], 2],
      [['c'], 1],
    ]);
    expect(sent[0].text).toBe('select * from unnest($1::uuid[]) limit $2');
    expect(sent[0].name).toMatch(/^sw_[0-9a-f]{20}$/);
    expect(sent[1].name).toBe(sent[0].name);
  });

  it('names two texts apart', async () => {
    const { sent, executor } = recorder();
    await new NamedStatement(() => sql`select 1`).run(executor, {});
    await new NamedStatement(() => sql`select 2`).run(executor, {});
    expect(sent[0].name).not.toBe(sent[1].name);
  });
});
