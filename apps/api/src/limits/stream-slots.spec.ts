import { ApiProblem } from '../errors/problem';
import { StreamSlots } from './stream-slots';

describe(StreamSlots.name, () => {
  const refusal = (take: () => unknown) => {
    try {
      take();
    } catch (error) {
      return error as ApiProblem;
    }
    throw new Error('not refused');
  };

  it('refuses a stream past the per-session cap with 429 and Retry-After, and frees on release', () => {
    const limited: string[] = [];
    const slots = new StreamSlots(
      { maxStreamsPerSession: 2, maxStreamsPerCredential: 10 },
      (limit) => limited.push(limit),
    );
    const first = slots.acquire('s1', 'k');
    slots.acquire('s1', 'k');
    const error = refusal(() => slots.acquire('s1', 'k'));
    expect([error.code, error.status, error.headers['Retry-After']]).toEqual([
      'rate_limited',
      429,
      '5',
    ]);
    expect(limited).toEqual(['streams_per_session']);
    slots.acquire('s2', 'k'); // another session is not affected
    first();
    first(); // a second release gives back nothing more
    slots.acquire('s1', 'k');
    expect(() => slots.acquire('s1', 'k')).toThrow(ApiProblem);
  });

  it('refuses past the per-credential cap across sessions, and forgets released keys', () => {
    const limited: string[] = [];
    const slots = new StreamSlots(
      { maxStreamsPerSession: 10, maxStreamsPerCredential: 2 },
      (limit) => limited.push(limit),
    );
    const releases = [slots.acquire('a', 'key'), slots.acquire('b', 'key')];
    expect(refusal(() => slots.acquire('c', 'key')).code).toBe('rate_limited');
    expect(limited).toEqual(['streams_per_credential']);
    slots.acquire('c', 'other');
    expect(slots.size).toEqual({ sessions: 3, credentials: 2 });
    for (const release of releases) release();
    expect(slots.size).toEqual({ sessions: 1, credentials: 1 });
  });
});
