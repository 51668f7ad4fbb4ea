import { ApiProblem } from '../errors/problem';
import { MessageRateLimiter } from './message-rate';

describe(MessageRateLimiter.name, () => {
  it('takes the limit per session per minute, then refuses with 429 and the seconds left', async () => {
    let limited = 0;
    const limiter = new MessageRateLimiter({ maxPerMinute: 3, onLimited: () => limited++ });
    for (let i = 0; i < 3; i++) await limiter.consume('s1');
    const error = (await limiter.consume('s1').then(
      () => undefined,
      (e: unknown) => e,
    )) as ApiProblem;
    expect(error).toBeInstanceOf(ApiProblem);
    expect([error.code, error.status]).toEqual(['rate_limited', 429]);
    const retryAfter = Number(error.headers['Retry-After']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited).toBe(1);
    await limiter.consume('s2');
  });
});
