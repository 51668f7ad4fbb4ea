import type { ServerResponse } from 'node:http';
import { isClientGone, keepsError, markExpected, requestLogLevel } from './request-outcome';

const response = (statusCode: number) => ({ statusCode }) as ServerResponse;
const coded = (code: string) => Object.assign(new Error(code), { code });

describe(requestLogLevel.name, () => {
  it.each([
    [200, 'info'],
    [204, 'info'],
    [400, 'warn'],
    [404, 'warn'],
    [409, 'warn'],
    [500, 'error'],
    [503, 'error'],
  ])('logs a %i at %s', (status, level) => {
    expect(requestLogLevel(response(status))).toBe(level);
  });

  it('logs an answer marked expected (a 503 while draining) at its level', () => {
    const res = response(503);
    markExpected(res, 'info', 'draining');
    expect(requestLogLevel(res)).toBe('info');
  });

  it('logs a client that went away at info, and any other error at error', () => {
    expect(requestLogLevel(response(200), coded('ECONNRESET'))).toBe('info');
    expect(requestLogLevel(response(200), new Error('aborted'))).toBe('info');
    expect(requestLogLevel(response(200), new Error('boom'))).toBe('error');
    const marked = response(503);
    markExpected(marked, 'info', 'draining');
    expect(requestLogLevel(marked, new Error('boom'))).toBe('error');
  });
});

describe(isClientGone.name, () => {
  it.each(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED'])(
    'treats %s as the client going away',
    (code) => expect(isClientGone(coded(code))).toBe(true),
  );

  it('does not treat other errors, or non-errors, as the client going away', () => {
    expect(isClientGone(coded('ECONNREFUSED'))).toBe(false);
    expect(isClientGone(new Error('history read failed'))).toBe(false);
    expect(isClientGone(undefined)).toBe(false);
    expect(isClientGone('ECONNRESET')).toBe(false);
  });
});

describe(keepsError.name, () => {
  it("drops pino-http's invented error for a 5xx, keeps a real one", () => {
    expect(keepsError(response(500), new Error('failed with status code 500'))).toBe(false);
    expect(keepsError(response(500), new Error('boom'))).toBe(true);
    const withCause = Object.assign(response(500), { err: new Error('boom') });
    expect(keepsError(withCause, withCause.err)).toBe(true);
  });

  it('drops the error of an expected answer and of a client that went away', () => {
    const res = response(503);
    markExpected(res, 'info', 'draining');
    expect(keepsError(res, new Error('failed with status code 503'))).toBe(false);
    expect(keepsError(response(200), coded('EPIPE'))).toBe(false);
  });
});
