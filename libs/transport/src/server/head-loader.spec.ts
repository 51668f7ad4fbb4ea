import type { SessionHead } from './history';
import { HeadLoader } from './head-loader';

const head = (headSeq: number): SessionHead => ({ headSeq, state: 'ACTIVE', activity: 'idle' });

/** A getHeads whose calls resolve when the test says so. */
class ControlledHeads {
  readonly calls: { ids: string[]; settle: (heads: Map<string, SessionHead> | Error) => void }[] =
    [];
  getHeads = (ids: readonly string[]): Promise<Map<string, SessionHead>> =>
    new Promise((resolve, reject) => {
      this.calls.push({
        ids: [...ids],
        settle: (result) => (result instanceof Error ? reject(result) : resolve(result)),
      });
    });
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe(HeadLoader.name, () => {
  it('batches the lookups of one tick into one query, one entry per id', async () => {
    const heads = new ControlledHeads();
    const loader = new HeadLoader(heads);
    const lookups = ['a', 'b', 'a', 'x'].map((id) => loader.load(id));
    await flush();
    expect(heads.calls.map((call) => call.ids)).toEqual([['a', 'b', 'x']]);
    heads.calls[0].settle(
      new Map([
        ['a', head(1)],
        ['b', head(2)],
      ]),
    );
    expect(await Promise.all(lookups)).toEqual([head(1), head(2), head(1), undefined]);
  });

  it('joins lookups of distinct sessions made in separate callbacks of one loop turn into one query', async () => {
    const heads = new ControlledHeads();
    const loader = new HeadLoader(heads);
    const ids = Array.from({ length: 200 }, (_, i) => `s${i}`);
    // Each immediate is its own macrotask (microtasks run between them), as each request's I/O
    // callback of one poll is.
    const lookups = await new Promise<Promise<SessionHead | undefined>[]>((done) => {
      const made: Promise<SessionHead | undefined>[] = [];
      for (const id of ids) {
        setImmediate(() => {
          made.push(loader.load(id));
          if (made.length === ids.length) done(made);
        });
      }
    });
    await flush();
    expect(heads.calls.map((call) => call.ids)).toEqual([ids]);
    heads.calls[0].settle(new Map(ids.map((id, i) => [id, head(i)])));
    expect(await Promise.all(lookups)).toEqual(ids.map((_, i) => head(i)));
  });

  it('serves lookups that arrive during a query with one next query, never the one in flight', async () => {
    const heads = new ControlledHeads();
    const loader = new HeadLoader(heads);
    const first = loader.load('a');
    await flush();
    const later = [loader.load('a'), loader.load('b'), loader.load('b')];
    await flush();
    expect(heads.calls).toHaveLength(1);
    heads.calls[0].settle(new Map([['a', head(1)]]));
    expect(await first).toEqual(head(1));
    await flush();
    expect(heads.calls.map((call) => call.ids)).toEqual([['a'], ['a', 'b']]);
    heads.calls[1].settle(
      new Map([
        ['a', head(5)],
        ['b', head(7)],
      ]),
    );
    expect(await Promise.all(later)).toEqual([head(5), head(7), head(7)]);
  });

  it('fails every lookup of a failed query and serves the next ones afresh', async () => {
    const heads = new ControlledHeads();
    const loader = new HeadLoader(heads, { gatherMs: 0 });
    const failed = [loader.load('a'), loader.load('b')];
    await flush();
    heads.calls[0].settle(new Error('connection lost'));
    for (const lookup of failed) await expect(lookup).rejects.toThrow('connection lost');
    const retry = loader.load('a');
    await flush();
    heads.calls[1].settle(new Map([['a', head(3)]]));
    expect(await retry).toEqual(head(3));
  });
});
