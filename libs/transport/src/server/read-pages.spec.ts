import { readPages } from './read-pages';

/** A log of `head` seqs read in pages of `pageSize`; records each read's afterSeq. */
function logOf(head: number, pageSize: number, from = 1) {
  const reads: number[] = [];
  const read = async (afterSeq: number) => {
    reads.push(afterSeq);
    const events: number[] = [];
    for (let seq = Math.max(afterSeq + 1, from); seq <= head && events.length < pageSize; seq++) {
      events.push(seq);
    }
    return { events };
  };
  const last = (page: { events: number[] }, after: number) => page.events.at(-1) ?? after;
  return { reads, read, last };
}

describe(readPages.name, () => {
  it('reads at least once, even at the target', async () => {
    const log = logOf(10, 5);
    await readPages(10, 10, 5, log.read, (page) => log.last(page, 10));
    expect(log.reads).toEqual([10]);
  });

  it('stops once a page reaches the target, even a full one', async () => {
    const log = logOf(20, 5);
    await readPages(0, 10, 5, log.read, (page) => log.last(page, 0));
    expect(log.reads).toEqual([0, 5]);
  });

  it('goes on after a full page short of the target, and stops after a short one', async () => {
    const log = logOf(9, 5);
    await readPages(0, 12, 5, log.read, (page) => log.last(page, 0));
    expect(log.reads).toEqual([0, 5]);
  });

  it('stops after a page of one event less than the page size', async () => {
    const log = logOf(4, 5);
    await readPages(0, 100, 5, log.read, (page) => log.last(page, 0));
    expect(log.reads).toEqual([0]);
  });

  it('stops when take says so', async () => {
    const log = logOf(100, 5);
    await readPages(0, 100, 5, log.read, () => undefined);
    expect(log.reads).toEqual([0]);
  });

  it('reads on from wherever take puts the position', async () => {
    const log = logOf(100, 5);
    let calls = 0;
    await readPages(0, 30, 5, log.read, (page) => (++calls === 1 ? 20 : log.last(page, 0)));
    expect(log.reads).toEqual([0, 20, 25]);
  });

  it('throws on a full page that does not move the position', async () => {
    const log = logOf(100, 5);
    await expect(readPages(7, 50, 5, log.read, () => 7)).rejects.toThrow(
      'history after seq 7 does not start at 8',
    );
  });
});
