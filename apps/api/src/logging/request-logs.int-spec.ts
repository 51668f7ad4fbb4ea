import { randomUUID } from 'node:crypto';
import { connectPostgres } from '@sessionwire/events';
import { freePort, waitFor } from '../../../../test/process';
import { API_KEY, startTestApi, type TestApi } from '../../test/api-test-app';
import { LifecycleService } from '../health/lifecycle.service';

interface LogLine {
  level: number;
  msg?: string;
  req?: { id?: string };
  res?: { statusCode?: number };
  err?: { stack?: string };
}

const INFO = 30;
const WARN = 40;
const ERROR = 50;

/** Collects the app's JSON log lines (a pino destination). */
class LogCapture {
  readonly lines: LogLine[] = [];
  write(chunk: string): void {
    for (const line of chunk.split('\n')) if (line.trim()) this.lines.push(JSON.parse(line));
  }

  /** The request's access line (pino-http, when the response finished or closed). */
  async requestLine(requestId: string): Promise<LogLine> {
    let found: LogLine | undefined;
    await waitFor(`the log line of request ${requestId}`, () => {
      found = this.lines.find((l) => l.req?.id === requestId && l.res?.statusCode !== undefined);
      return !!found;
    });
    return found!;
  }

  /** Every line logged while serving the request (pino-http's and the app's own). */
  of(requestId: string): LogLine[] {
    return this.lines.filter((l) => l.req?.id === requestId);
  }
}

const headers = (requestId: string) => ({
  authorization: `Bearer ${API_KEY}`,
  'x-request-id': requestId,
});

/** A line as an assertion subject: its level, message and whether it carries a stack anywhere. */
const shape = (line: LogLine) => ({
  level: line.level,
  msg: line.msg,
  status: line.res?.statusCode,
  err: line.err !== undefined,
  stack: JSON.stringify(line).includes('stack'),
});

// nestjs-pino keeps one root logger per process, made by the first app: every app started in this
// file logs to that app's destination, so they all share one capture (request ids tell them apart).
const logs = new LogCapture();
const start = (options: Parameters<typeof startTestApi>[0] = {}) =>
  startTestApi({ ...options, env: { LOG_LEVEL: 'info' }, logDestination: logs });

/** No line of the request is at `error` or carries a stack. */
const expectNoFault = (requestId: string) =>
  expect(logs.of(requestId).filter((l) => l.level >= ERROR || shape(l).stack)).toEqual([]);

describe('API request logs', () => {
  let api: TestApi;
  let sessionId: string;

  beforeAll(async () => {
    api = await start();
    sessionId = (await api.request('POST', '/v1/sessions', { body: {} })).body.id;
  });
  afterAll(() => api.close());

  it('logs a client that went away from its stream at info, without a stack', async () => {
    const controller = new AbortController();
    const response = await fetch(`${api.url}/v1/sessions/${sessionId}/stream`, {
      headers: headers('gone-1'),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    await response.body!.getReader().read();
    controller.abort();
    expect(shape(await logs.requestLine('gone-1'))).toEqual({
      level: INFO,
      msg: 'request aborted',
      status: 200,
      err: false,
      stack: false,
    });
    expectNoFault('gone-1');
  });

  it.each([
    ['an unknown session', () => `/v1/sessions/${randomUUID()}/stream`, 404],
    ['a bad cursor', () => `/v1/sessions/${sessionId}/stream?after=abc`, 400],
    ['a bad id', () => '/v1/sessions/not-a-uuid', 400],
  ])('logs %s at warn, without a stack', async (_what, path, status) => {
    const id = `client-${status}-${randomUUID()}`;
    expect((await fetch(`${api.url}${path()}`, { headers: headers(id) })).status).toBe(status);
    expect(shape(await logs.requestLine(id))).toEqual({
      level: WARN,
      msg: 'request completed',
      status,
      err: false,
      stack: false,
    });
    expectNoFault(id);
  });

  it('logs a stream refused while the node drains (503) at info, without a stack', async () => {
    const draining = await start();
    try {
      const id = (await draining.request('POST', '/v1/sessions', { body: {} })).body.id;
      draining.app.get(LifecycleService).beginDrain();
      const refused = await fetch(`${draining.url}/v1/sessions/${id}/stream`, {
        headers: headers('drain-1'),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      const probe = await fetch(`${draining.url}/readyz`, { headers: headers('drain-probe') });
      expect(probe.status).toBe(503);
      for (const requestId of ['drain-1', 'drain-probe']) {
        expect(shape(await logs.requestLine(requestId))).toEqual({
          level: INFO,
          msg: expect.stringMatching(/^request answered 503: .*draining/),
          status: 503,
          err: false,
          stack: false,
        });
        expectNoFault(requestId);
      }
    } finally {
      await draining.close();
    }
  });

  it('still logs a fault (database unreachable) at error, with the cause and its stack', async () => {
    const deadUrl = `postgres://postgres@127.0.0.1:${await freePort()}/none`;
    const dead = connectPostgres({ url: deadUrl, applicationName: 'sessionwire-api' });
    const down = await start({ database: dead });
    try {
      const res = await fetch(`${down.url}/v1/sessions`, { headers: headers('fault-1') });
      expect(res.status).toBe(503);
      expect(shape(await logs.requestLine('fault-1'))).toMatchObject({
        level: ERROR,
        status: 503,
      });
      const cause = logs.of('fault-1').find((l) => l.msg === 'database unavailable');
      expect(cause?.level).toBe(ERROR);
      expect(cause?.err?.stack).toMatch(/ECONNREFUSED|connect/);
    } finally {
      await down.close();
      await dead.close();
    }
  });
});
