import { backoffDelay, parseRetryAfter } from './backoff';

describe('backoffDelay', () => {
  const options = { baseMs: 500, maxMs: 30_000, minMs: 100 };

  it('doubles the window with each attempt up to the maximum', () => {
    const top = (attempt: number) => backoffDelay(attempt, 0, options, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(top)).toEqual([
      500, 1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
    expect(top(1000)).toBe(30000);
  });

  it('spreads delays across the whole window (full jitter), never below the minimum', () => {
    const delays = [0, 0.25, 0.5, 0.999].map((r) => backoffDelay(3, 0, options, () => r));
    expect(delays).toEqual([100, 1075, 2050, 3996]);
    expect(new Set(delays).size).toBe(4);
  });

  it("never goes below the server's floor, even when the window is smaller", () => {
    expect(backoffDelay(0, 5000, options, () => 0)).toBe(5000);
    expect(backoffDelay(0, 5000, options, () => 0.99)).toBe(5000);
    expect(backoffDelay(5, 5000, options, () => 1)).toBe(16000);
    expect(backoffDelay(5, 5000, options, () => 0)).toBe(5000);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and ignores junk', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBe(0);
  });
});
