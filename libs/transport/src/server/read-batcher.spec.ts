import { ReadBatcher } from './read-batcher';

/** A query whose calls resolve when the test says so; each read answers with its own text. */
class ControlledQuery {
  readonly calls: { reads: string[]; settle: () => void }[] = [];
  run = (reads: string[]): Promise<string[]> =>
    new Promise((resolve) => {
      this.calls.push({ reads, settle: () => resolve(reads.map((r) => `got ${r}`)) });
    });
}

describe(ReadBatcher.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const turn = () => jest.advanceTimersByTimeAsync(0);

  it('sends a read that finds it quiet at once, one entry per key', async () => {
    const query = new ControlledQuery();
    const batcher = new ReadBatcher(query.run, { gatherMs: 20 });
    const reads = ['a', 'b', 'a'].map((key) => batcher.read(key, key));
    await turn();
    expect(query.calls.map((c) => c.reads)).toEqual([['a', 'b']]);
    query.calls[0].settle();
    expect(await Promise.all(reads)).toEqual(['got a', 'got b', 'got a']);
  });

  it('under a storm spaces queries gatherMs apart so that each gathers what waited', async () => {
    const query = new ControlledQuery();
    const batcher = new ReadBatcher(query.run, { gatherMs: 20 });
    void batcher.read('a', 'a');
    void batcher.read('b', 'b');
    await turn();
    query.calls[0].settle();
    await jest.advanceTimersByTimeAsync(2);
    const later = ['c', 'd', 'e'].map((key) => batcher.read(key, key));
    await jest.advanceTimersByTimeAsync(17);
    expect(query.calls).toHaveLength(1); // 19 ms after the first query was sent
    await jest.advanceTimersByTimeAsync(1);
    expect(query.calls.map((c) => c.reads)).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
    query.calls[1].settle();
    expect(await Promise.all(later)).toEqual(['got c', 'got d', 'got e']);
  });

  it('never waits when the last query carried one read, nor when queries are slower than gatherMs', async () => {
    const query = new ControlledQuery();
    const batcher = new ReadBatcher(query.run, { gatherMs: 20 });
    void batcher.read('a', 'a');
    await turn();
    query.calls[0].settle();
    await turn();
    void batcher.read('b', 'b');
    void batcher.read('c', 'c');
    await turn();
    expect(query.calls).toHaveLength(2); // the first query carried one read
    await jest.advanceTimersByTimeAsync(25);
    void batcher.read('d', 'd');
    query.calls[1].settle();
    await turn();
    expect(query.calls.map((c) => c.reads)).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('with gatherMs 0 sends the next query as soon as the last one finished', async () => {
    const query = new ControlledQuery();
    const batcher = new ReadBatcher(query.run, { gatherMs: 0 });
    void batcher.read('a', 'a');
    void batcher.read('b', 'b');
    await turn();
    void batcher.read('c', 'c');
    query.calls[0].settle();
    await turn();
    expect(query.calls.map((c) => c.reads)).toEqual([['a', 'b'], ['c']]);
  });

  it('splits a batch at maxWeight, never below one read', async () => {
    const query = new ControlledQuery();
    const batcher = new ReadBatcher(query.run, { gatherMs: 0, maxWeight: 10 });
    void batcher.read('big', 'big', 50);
    void batcher.read('x', 'x', 6);
    void batcher.read('y', 'y', 4);
    void batcher.read('z', 'z', 1);
    for (let i = 0; i < 3; i++) {
      await turn();
      query.calls[i].settle();
    }
    expect(query.calls.map((c) => c.reads)).toEqual([['big'], ['x', 'y'], ['z']]);
  });

  it('fails every read of a failed query and serves the next ones afresh', async () => {
    const batcher = new ReadBatcher<string, string>(
      (reads) =>
        reads.includes('bad')
          ? Promise.reject(new Error('connection lost'))
          : Promise.resolve(reads),
      { gatherMs: 0 },
    );
    const failed = [batcher.read('bad', 'bad'), batcher.read('a', 'a')];
    await turn();
    for (const read of failed) await expect(read).rejects.toThrow('connection lost');
    const retry = batcher.read('a', 'a');
    await turn();
    expect(await retry).toBe('a');
  });
});
