import type { StoredEvent } from '@sessionwire/transport/protocol';
import type { Database } from './database';
import { SessionBounds } from './session-bounds';

const DAY = 86_400_000;
const day = (n: number) => Date.UTC(2026, 0, 1) + n * DAY;
const event = (seq: number, at: number) =>
  ({
    sessionId: 's',
    seq,
    type: 'message.delta',
    data: {},
    createdAt: new Date(at).toISOString(),
  }) as StoredEvent;

describe(SessionBounds.name, () => {
  const noDatabase = {} as Database; // every session below is noted first: no query
  const bounds = () => {
    const b = new SessionBounds(noDatabase);
    b.note('s', new Date(day(0) + 5 * 3_600_000));
    return b;
  };

  it('bounds by the creation day until it has seen where later days begin', async () => {
    const b = bounds();
    expect(await b.of('s')).toEqual(new Date(day(0)));
    expect(await b.of('s', 500)).toEqual(new Date(day(0)));
  });

  it('bounds a read by the day before the newest day known to begin at or below its first seq', async () => {
    const b = bounds();
    b.noteEvents('s', [event(60, day(9) + 10), event(50, day(9) + 5), event(40, day(7) + 1)]);
    b.noteEvents('s', [event(70, day(10) + 1)]);
    expect(await b.of('s', 69)).toEqual(new Date(day(9))); // 70 is on day 10: day 9 on
    expect(await b.of('s', 55)).toEqual(new Date(day(8))); // 50 (≤ 56) is on day 9: day 8 on
    expect(await b.of('s', 49)).toEqual(new Date(day(8)));
    expect(await b.of('s', 48)).toEqual(new Date(day(6))); // only 40 (day 7) is low enough
    expect(await b.of('s', 10)).toEqual(new Date(day(0)));
    expect(await b.of('s')).toEqual(new Date(day(0)));
  });

  it('keeps the newest days only, and forgets the least recently used sessions', async () => {
    const b = new SessionBounds(noDatabase, 2);
    b.note('s', new Date(day(0)));
    for (let n = 1; n <= 12; n++) b.noteEvents('s', [event(n * 10, day(n))]);
    expect(await b.of('s', 20)).toEqual(new Date(day(0))); // day 2 was forgotten
    expect(await b.of('s', 50)).toEqual(new Date(day(4))); // day 5 (seq 50) is kept
    b.note('a', new Date(day(3)));
    b.note('b', new Date(day(3)));
    await expect(b.of('s')).rejects.toThrow(); // evicted: it would need the database now
  });

  it('bounds many reads as one read each, loading only the sessions it does not know', async () => {
    const rows = [{ id: 'n', createdAt: new Date(day(4) + 1) }];
    // The query as runNamed sees a builder: its text and a statement that runs it.
    const where = jest.fn(() => ({
      toSQL: () => ({ sql: 'select' }),
      prepare: () => ({ execute: () => Promise.resolve(rows) }),
    }));
    const db = { select: () => ({ from: () => ({ where }) }) } as unknown as Database;
    const b = new SessionBounds(db);
    b.note('s', new Date(day(0)));
    b.noteEvents('s', [event(40, day(7) + 1)]);
    const reads = [
      { sessionId: 's', afterSeq: 39 },
      { sessionId: 'n', afterSeq: 0 },
      { sessionId: 'gone', afterSeq: 0 },
      { sessionId: 's' },
      { sessionId: 'n' },
    ];
    expect(await b.ofMany(reads)).toEqual([
      new Date(day(6)),
      new Date(day(4)),
      undefined,
      new Date(day(0)),
      new Date(day(4)),
    ]);
    expect(where).toHaveBeenCalledTimes(1);
    expect(await b.of('n')).toEqual(new Date(day(4))); // known now: no query
    expect(where).toHaveBeenCalledTimes(1);
  });
});
