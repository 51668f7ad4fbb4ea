import { existsSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { resolve } from 'node:path';
import {
  createTestDatabase,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '../../../test/database';
import { freePort, ManagedProcess, waitFor } from '../../../test/process';
import { API_KEY, AUTH_SECRET, send, type RequestOptions } from './api-test-app';
import { SseClient } from './sse-client';

const ENTRY = 'dist/apps/api/main.js';
const ORIGIN = 'https://app.example.com';

interface LogLine {
  level: number;
  msg: string;
  req?: { id: string; method: string; url: string };
  res?: { statusCode: number };
  err?: { message: string };
}

/**
 * The stream route is served beneath Express; a built API process must still give a stream what
 * Express gives every route: CORS headers, a request id, one request log line, 405 for other
 * methods.
 */
describe('stream route beneath Express', () => {
  let db: TestDatabase;
  let api: ManagedProcess;
  let url: string;
  const request = (method: string, path: string, init?: RequestOptions) =>
    send(url, method, path, init);
  const logLines = (): LogLine[] =>
    api
      .logs()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  const requestLog = async (id: string) => {
    await waitFor(`the log line of ${id}`, () => logLines().some((l) => l.req?.id === id));
    return logLines().filter((line) => line.req?.id === id);
  };
  const newSession = async () =>
    (await request('POST', '/v1/sessions', { body: {} })).body.id as string;

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../..', ENTRY))) throw new Error(`${ENTRY} is missing`);
    db = await createTestDatabase();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    api = new ManagedProcess({
      name: 'api',
      entry: ENTRY,
      env: {
        PORT: String(port),
        DATABASE_URL: db.url,
        REDIS_URL: testRedisUrl(),
        REDIS_PREFIX: testRedisPrefix(),
        API_KEYS: API_KEY,
        AUTH_SECRET,
        LOG_LEVEL: 'info',
        CORS_ORIGINS: ORIGIN,
      },
      readyUrl: `${url}/readyz`,
    });
    await api.start();
  });
  afterAll(async () => {
    await api.kill();
    await db.drop();
  });

  it('gives a stream CORS headers, the incoming request id, and one log line when it closes', async () => {
    const id = await newSession();
    const token = (
      await request('POST', `/v1/sessions/${id}/tokens`, { body: { scope: ['read'] } })
    ).body.token as string;
    const client = await SseClient.open(`${url}/v1/sessions/${id}/stream?access_token=${token}`, {
      origin: ORIGIN,
      'x-request-id': 'stream-req-1',
    });
    expect(client.status).toBe(200);
    expect(client.headers?.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(client.headers?.get('access-control-expose-headers')).toBe('retry-after,x-request-id');
    expect(client.headers?.get('vary')).toBe('Origin');
    expect(client.headers?.get('x-request-id')).toBe('stream-req-1');
    await client.waitFor('live', () => client.control('live').length === 1);
    client.abort();
    const [line, ...more] = await requestLog('stream-req-1');
    expect(more).toEqual([]);
    expect(line).toMatchObject({
      level: 30,
      msg: 'request aborted',
      req: { method: 'GET', url: `/v1/sessions/${id}/stream?access_token=[redacted]` },
      res: { statusCode: 200 },
    });
    expect(JSON.stringify(line)).not.toContain(token);
  });

  it('refuses like the rest of the API: CORS, a request id, problem+json, a warn line', async () => {
    const id = await newSession();
    const res = await request('GET', `/v1/sessions/${id}/stream`, {
      auth: null,
      headers: { origin: ORIGIN },
    });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const requestId = res.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await requestLog(requestId)).toEqual([
      expect.objectContaining({ level: 40, msg: 'request completed', res: { statusCode: 401 } }),
    ]);
    const text = await getWithBody(`${url}/v1/sessions/${id}/stream`, 'text/plain', 'x');
    expect([text.status, JSON.parse(text.body).code]).toEqual([415, 'unsupported_media_type']);
    expect(text.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs a stream the server ended, and a 204, as completed', async () => {
    const id = await newSession();
    const { headSeq } = (await request('POST', `/v1/sessions/${id}/end`)).body;
    const replay = await SseClient.open(`${url}/v1/sessions/${id}/stream`, {
      authorization: `Bearer ${API_KEY}`,
      'x-request-id': 'ended-replay',
    });
    await replay.done;
    expect(replay.control('end')).toEqual([{ sessionId: id, headSeq }]);
    const atHead = await request('GET', `/v1/sessions/${id}/stream?after=${headSeq}`, {
      headers: { 'x-request-id': 'ended-at-head' },
    });
    expect(atHead.status).toBe(204);
    expect(await requestLog('ended-replay')).toEqual([
      expect.objectContaining({ level: 30, msg: 'request completed', res: { statusCode: 200 } }),
    ]);
    expect(await requestLog('ended-at-head')).toEqual([
      expect.objectContaining({ level: 30, msg: 'request completed', res: { statusCode: 204 } }),
    ]);
  });

  it('answers HEAD with the headers of the stream and no stream, other methods with 405', async () => {
    const id = await newSession();
    const head = await request('HEAD', `/v1/sessions/${id}/stream`);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(head.text).toBe('');
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await request(method, `/v1/sessions/${id}/stream`);
      expect([method, res.status, res.headers.get('allow')]).toEqual([method, 405, 'GET, HEAD']);
    }
    const metrics = (await request('GET', '/metrics')).text;
    expect(metrics).toMatch(/^sessionwire_open_streams 0$/m);
  });
});

/** A GET with a body (fetch refuses to send one). */
function getWithBody(
  target: string,
  contentType: string,
  body: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(
      target,
      {
        method: 'GET',
        headers: {
          authorization: `Bearer ${API_KEY}`,
          'content-type': contentType,
          'content-length': String(Buffer.byteLength(body)),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolvePromise({ status: res.statusCode!, headers: res.headers, body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
