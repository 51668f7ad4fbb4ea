import type { SessionState } from '../protocol';
import { expiredThrough, isEndedAt, isPastReplayCap, type LogPage } from './stream-rules';

const head = (headSeq: number, state: SessionState = 'ENDED') => ({
  headSeq,
  state,
  activity: 'idle' as const,
});
const page = (afterSeq: number, headSeq: number, seqs: number[]): LogPage => ({
  afterSeq,
  headSeq,
  events: seqs.map((seq) => ({ seq })),
});

describe(isEndedAt.name, () => {
  it('holds exactly at the head of an ENDED session', () => {
    expect(isEndedAt(head(7), 6)).toBe(false);
    expect(isEndedAt(head(7), 7)).toBe(true);
  });

  it('does not hold past the head (that cursor gets cursor_ahead first)', () => {
    expect(isEndedAt(head(7), 8)).toBe(false);
  });

  it.each(['CREATED', 'STARTING', 'ACTIVE', 'SUSPENDED', 'DETACHED'] as const)(
    'does not hold at the head of a %s session',
    (state) => expect(isEndedAt(head(7, state), 7)).toBe(false),
  );
});

describe(isPastReplayCap.name, () => {
  it('replays exactly the cap, and skips one event more', () => {
    expect(isPastReplayCap(10, 210, 200)).toBe(false);
    expect(isPastReplayCap(10, 211, 200)).toBe(true);
  });

  it('never skips a stream at or past its target', () => {
    expect(isPastReplayCap(10, 10, 1)).toBe(false);
    expect(isPastReplayCap(12, 10, 1)).toBe(false);
  });

  it('never skips with an unbounded cap', () => {
    expect(isPastReplayCap(0, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY)).toBe(false);
  });
});

describe(expiredThrough.name, () => {
  it('finds nothing missing when the page starts at the next seq', () => {
    expect(expiredThrough(5, page(5, 9, [6, 7]))).toBeUndefined();
  });

  it('reports the seqs below the first one a page still holds', () => {
    expect(expiredThrough(5, page(5, 9, [7, 8]))).toBe(6);
    expect(expiredThrough(5, page(5, 900, [800]))).toBe(799);
  });

  it('reports up to the head an empty page although the head was above the stream', () => {
    expect(expiredThrough(5, page(5, 6, []))).toBe(6);
    expect(expiredThrough(5, page(5, 5, []))).toBeUndefined();
    expect(expiredThrough(5, page(5, 4, []))).toBeUndefined();
  });

  it('judges a page read below the stream by what lies above the stream', () => {
    expect(expiredThrough(5, page(3, 9, [4, 5, 6]))).toBeUndefined();
    expect(expiredThrough(5, page(3, 9, [4, 5]))).toBeUndefined();
    expect(expiredThrough(5, page(3, 9, [8]))).toBe(7);
    expect(expiredThrough(5, page(3, 9, []))).toBe(9);
  });

  it('says nothing about a stream from a page read above it', () => {
    expect(expiredThrough(5, page(6, 9, [9]))).toBeUndefined();
    expect(expiredThrough(5, page(6, 9, []))).toBeUndefined();
  });
});
