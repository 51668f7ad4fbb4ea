import { connectPostgres } from '@sessionwire/events';
import { freePort } from '../../../../test/process';
import { startTestApi, type TestApi } from '../../test/api-test-app';
import { ProblemFilter } from './problem.filter';

const PROBLEM_KEYS = ['code', 'detail', 'status', 'title', 'type'];

describe(ProblemFilter.name, () => {
  let api: TestApi;
  let id: string;

  beforeAll(async () => {
    api = await startTestApi();
    id = (await api.request('POST', '/v1/sessions', { body: {} })).body.id;
    await api.request('POST', `/v1/sessions/${id}/messages`, {
      body: { clientMessageId: 'a', content: 'first' },
    });
  });
  afterAll(() => api.close());

  const snapshot = async () => {
    const sessions = await api.db.store.listSessions({ limit: 1000 });
    const log = await api.db.store.getEventsAfter(id, 0, 1000);
    return { sessions: sessions.map((s) => [s.id, s.headSeq, s.state]), log };
  };

  const raw = async (
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ) =>
    fetch(api.url + path, {
      method,
      headers: { authorization: `Bearer ${api.config.apiKeys[0]}`, ...headers },
      body,
    });

  type Case = [string, string, string, Record<string, string>, string | undefined, number, string];
  const json = { 'content-type': 'application/json' };
  const m = () => `/v1/sessions/${id}/messages`;
  const cases = (): Case[] => [
    ['bad JSON', 'POST', m(), json, '{"content":', 400, 'validation_failed'],
    ['JSON that is not an object', 'POST', m(), json, '"hello"', 400, 'validation_failed'],
    ['content of the wrong type', 'POST', m(), json, '{"content":42}', 400, 'validation_failed'],
    ['content missing', 'POST', m(), json, '{}', 400, 'validation_failed'],
    ['no body at all', 'POST', m(), {}, undefined, 400, 'validation_failed'],
    ['unknown field', 'POST', m(), json, '{"content":"x","extra":1}', 400, 'validation_failed'],
    [
      'clientMessageId with spaces',
      'POST',
      m(),
      json,
      '{"clientMessageId":"a b","content":"x"}',
      400,
      'validation_failed',
    ],
    [
      'clientMessageId of 129 chars',
      'POST',
      m(),
      json,
      JSON.stringify({ clientMessageId: 'a'.repeat(129), content: 'x' }),
      400,
      'validation_failed',
    ],
    [
      '10 MB body',
      'POST',
      m(),
      json,
      JSON.stringify({ content: 'x'.repeat(10 * 1024 * 1024) }),
      413,
      'payload_too_large',
    ],
    [
      'form body',
      'POST',
      m(),
      { 'content-type': 'application/x-www-form-urlencoded' },
      'content=x',
      415,
      'unsupported_media_type',
    ],
    [
      'text body',
      'POST',
      m(),
      { 'content-type': 'text/plain' },
      'x',
      415,
      'unsupported_media_type',
    ],
    [
      'untyped body',
      'POST',
      m(),
      { 'content-type': '' },
      '{"content":"x"}',
      415,
      'unsupported_media_type',
    ],
    [
      'metadata not an object',
      'POST',
      '/v1/sessions',
      json,
      '{"metadata":[1]}',
      400,
      'validation_failed',
    ],
    [
      'agent of the wrong type',
      'POST',
      '/v1/sessions',
      json,
      '{"agent":7}',
      400,
      'validation_failed',
    ],
    ['non-UUID id', 'GET', '/v1/sessions/not-a-uuid', {}, undefined, 400, 'validation_failed'],
    [
      'non-UUID id on post',
      'POST',
      '/v1/sessions/123/messages',
      json,
      '{"content":"x"}',
      400,
      'validation_failed',
    ],
    [
      'SQL in the id',
      'GET',
      "/v1/sessions/1'%20or%201=1--/events",
      {},
      undefined,
      400,
      'validation_failed',
    ],
    [
      'cursor -1',
      'GET',
      `/v1/sessions/${id}/events?after=-1`,
      {},
      undefined,
      400,
      'validation_failed',
    ],
    [
      'cursor abc',
      'GET',
      `/v1/sessions/${id}/events?after=abc`,
      {},
      undefined,
      400,
      'validation_failed',
    ],
    [
      'cursor 1e9999',
      'GET',
      `/v1/sessions/${id}/events?after=1e9999`,
      {},
      undefined,
      400,
      'validation_failed',
    ],
    [
      'cursor 2^53',
      'GET',
      `/v1/sessions/${id}/events?before=9007199254740992`,
      {},
      undefined,
      400,
      'validation_failed',
    ],
    [
      'cursor 1.5',
      'GET',
      `/v1/sessions/${id}/events?after=1.5`,
      {},
      undefined,
      400,
      'validation_failed',
    ],
    [
      'cursor given twice',
      'GET',
      `/v1/sessions/${id}/events?after=1&after=2`,
      {},
      undefined,
      400,
      'validation_failed',
    ],
    [
      'after and before',
      'GET',
      `/v1/sessions/${id}/events?after=1&before=3`,
      {},
      undefined,
      400,
      'validation_failed',
    ],
    [
      'limit 0',
      'GET',
      `/v1/sessions/${id}/events?limit=0`,
      {},
      undefined,
      400,
      'validation_failed',
    ],
    [
      'limit NaN',
      'GET',
      `/v1/sessions/${id}/events?limit=NaN`,
      {},
      undefined,
      400,
      'validation_failed',
    ],
    [
      'limit -5',
      'GET',
      `/v1/sessions/${id}/events?limit=-5`,
      {},
      undefined,
      400,
      'validation_failed',
    ],
    [
      'stream cursor abc',
      'GET',
      `/v1/sessions/${id}/stream?after=abc`,
      {},
      undefined,
      400,
      'validation_failed',
    ],
    [
      'stream Last-Event-ID -1',
      'GET',
      `/v1/sessions/${id}/stream`,
      { 'last-event-id': '-1' },
      undefined,
      400,
      'validation_failed',
    ],
    [
      'token scope write only',
      'POST',
      `/v1/sessions/${id}/tokens`,
      json,
      '{"scope":["write"]}',
      400,
      'validation_failed',
    ],
    [
      'token ttl 0',
      'POST',
      `/v1/sessions/${id}/tokens`,
      json,
      '{"scope":["read"],"ttlSeconds":0}',
      400,
      'validation_failed',
    ],
    [
      'token ttl over a day',
      'POST',
      `/v1/sessions/${id}/tokens`,
      json,
      '{"scope":["read"],"ttlSeconds":86401}',
      400,
      'validation_failed',
    ],
    ['unknown route', 'GET', '/v1/nothing', {}, undefined, 404, 'not_found'],
    ['wrong method', 'DELETE', `/v1/sessions/${id}`, {}, undefined, 405, 'method_not_allowed'],
    [
      'GET on a POST route',
      'GET',
      `/v1/sessions/${id}/end`,
      {},
      undefined,
      405,
      'method_not_allowed',
    ],
  ];

  it('answers every malformed request with a 4xx problem and changes nothing', async () => {
    const before = await snapshot();
    for (const [name, method, path, headers, body, status, code] of cases()) {
      const res = await raw(method, path, headers, body);
      const text = await res.text();
      expect({ name, status: res.status }).toEqual({ name, status });
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = JSON.parse(text);
      expect({ name, code: problem.code }).toEqual({ name, code });
      expect(Object.keys(problem).sort()).toEqual(PROBLEM_KEYS);
      expect(problem.status).toBe(status);
      expect(problem.type).toMatch(/^https:\/\//);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('names the allowed methods on 405', async () => {
    const res = await raw('PUT', `/v1/sessions/${id}/messages`, {});
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    const session = await raw('DELETE', `/v1/sessions/${id}`, {});
    expect(session.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers a query failure with a generic 500 and an errorId, never SQL', async () => {
    const broken = await startTestApi();
    try {
      const created = await broken.request('POST', '/v1/sessions', { body: {} });
      await broken.db.handle.db.execute('alter table events rename to events_gone' as never);
      const res = await broken.request('GET', `/v1/sessions/${created.body.id}/events`);
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({ code: 'internal_error', status: 500 });
      expect(res.body.errorId).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.text).not.toMatch(/events|select|relation|at .*\.ts/i);
    } finally {
      await broken.close();
    }
  });

  it('answers 503 unavailable with Retry-After when Postgres is unreachable', async () => {
    const deadUrl = `postgres://postgres@127.0.0.1:${await freePort()}/none`;
    const dead = connectPostgres({ url: deadUrl, applicationName: 'sessionwire-api' });
    const down = await startTestApi({ database: dead });
    try {
      const res = await down.request('GET', '/v1/sessions');
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('unavailable');
      expect(res.headers.get('retry-after')).toBe('5');
      const ready = await down.request('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect((await down.request('GET', '/healthz')).status).toBe(200);
    } finally {
      await down.close();
      await dead.close();
    }
  });
});
