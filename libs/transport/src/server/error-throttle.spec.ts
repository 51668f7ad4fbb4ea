import { ErrorThrottle } from './error-throttle';

describe(ErrorThrottle.name, () => {
  it('passes the first error of a context on, then at most one per window with the count suppressed', () => {
    let now = 0;
    const reported: string[] = [];
    const throttle = new ErrorThrottle(
      (error, context) => reported.push(`${context}: ${error.message}`),
      {
        intervalMs: 10_000,
        now: () => now,
      },
    );
    const refused = new Error('connect ECONNREFUSED');
    for (let i = 0; i < 258; i++) {
      throttle.report(refused, 'redis node 127.0.0.1:7001');
      now += 15; // ~4 s of a failover
    }
    throttle.report(new Error('timed out'), 'publish');
    now = 20_000;
    throttle.report(refused, 'redis node 127.0.0.1:7001');
    expect(reported).toEqual([
      'redis node 127.0.0.1:7001: connect ECONNREFUSED',
      'publish: timed out',
      'redis node 127.0.0.1:7001 (257 more like it since the last report): connect ECONNREFUSED',
    ]);
    expect(throttle.total).toBe(260);
  });
});
