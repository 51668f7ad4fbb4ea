import type { EncodedEvent } from './encoded-event';
import { TailCache } from './tail-cache';

const event = (seq: number, bytes = 10): EncodedEvent => ({
  seq,
  stored: {} as EncodedEvent['stored'],
  createdAtMs: 0,
  frame: Buffer.alloc(bytes, seq % 256),
});
const events = (from: number, to: number, bytes = 10): EncodedEvent[] =>
  Array.from({ length: to - from + 1 }, (_, i) => event(from + i, bytes));
const seqs = (list: readonly EncodedEvent[] | undefined) => list?.map((e) => e.seq);

describe(TailCache.name, () => {
  it('extends with hinted events only where they follow the run directly', () => {
    const cache = new TailCache({ maxEvents: 100, maxBytes: 1 << 20 });
    cache.addRead(events(1, 5));
    cache.addHinted(events(6, 7));
    cache.addHinted([event(9)]); // 8 was lost: a hole
    cache.addHinted([event(10)]);
    expect([cache.from, cache.to]).toEqual([1, 7]);
    cache.addRead(events(7, 10)); // a read fills the hole
    expect([cache.from, cache.to]).toEqual([1, 10]);
    cache.addHinted([event(11)]);
    expect(seqs(cache.slice(0, 100))).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
  });

  it('merges overlapping or touching pages, and a page above the run replaces it', () => {
    const cache = new TailCache({ maxEvents: 100, maxBytes: 1 << 20 });
    cache.addRead(events(10, 12));
    cache.addRead(events(5, 9));
    expect([cache.from, cache.to]).toEqual([5, 12]);
    cache.addRead(events(1, 3)); // below, not touching: ignored
    expect([cache.from, cache.to]).toEqual([5, 12]);
    cache.addRead(events(20, 22));
    expect([cache.from, cache.to, cache.size]).toEqual([20, 22, 3]);
  });

  it('slices from afterSeq + 1, empty at the end of the run, undefined outside it', () => {
    const cache = new TailCache({ maxEvents: 100, maxBytes: 1 << 20 });
    expect(cache.slice(0, 10)).toBeUndefined();
    cache.addRead(events(5, 9));
    expect(seqs(cache.slice(4, 2))).toEqual([5, 6]);
    expect(seqs(cache.slice(7, 10))).toEqual([8, 9]);
    expect(seqs(cache.slice(9, 10))).toEqual([]);
    expect(cache.slice(3, 10)).toBeUndefined();
    expect(cache.slice(10, 10)).toBeUndefined();
  });

  it('holds at most maxEvents and maxBytes, evicting the oldest', () => {
    const byCount = new TailCache({ maxEvents: 4, maxBytes: 1 << 20 });
    byCount.addRead(events(1, 10));
    expect([byCount.from, byCount.to]).toEqual([7, 10]);
    const byBytes = new TailCache({ maxEvents: 1000, maxBytes: 1000 });
    for (let seq = 1; seq <= 50; seq++) {
      byBytes.addHinted([event(seq, 90 + (seq % 7) * 10)]);
      expect(byBytes.bytes).toBeLessThanOrEqual(1000);
      expect(byBytes.bytes).toBe(
        (byBytes.slice((byBytes.from ?? 1) - 1, 1000) ?? []).reduce(
          (n, e) => n + e.frame.length,
          0,
        ),
      );
      expect(byBytes.to).toBe(seq);
    }
    byBytes.addHinted([event(51, 5000)]); // larger than the bound: not kept
    expect(byBytes.size).toBe(0);
    expect(byBytes.bytes).toBe(0);
  });
});
