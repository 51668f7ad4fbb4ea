import { AGENTS } from '@sessionwire/agents';
import { RedisBroker } from '@sessionwire/transport/server';
import { freePort } from '../../../../test/process';
import { API_KEY, startTestApi, type TestApi } from '../../test/api-test-app';
import { SseClient } from '../../test/sse-client';
import { HealthController } from './health.controller';

const ROUTES = [
  'post /v1/sessions',
  'get /v1/sessions',
  'get /v1/sessions/{id}',
  'get /v1/sessions/{id}/events',
  'post /v1/sessions/{id}/messages',
  'post /v1/sessions/{id}/interrupt',
  'post /v1/sessions/{id}/end',
  'post /v1/sessions/{id}/tokens',
  'get /v1/sessions/{id}/stream',
  'post /v1/ai-sdk/chat',
  'get /v1/ai-sdk/chat/{id}/stream',
  'get /v1/ai-sdk/chat/{id}/messages',
  'post /v1/ai-sdk/chat/{id}/stop',
  'get /healthz',
  'get /readyz',
  'get /metrics',
];

describe(HealthController.name, () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  it('answers healthz and readyz without credentials', async () => {
    const health = await api.request('GET', '/healthz', { auth: null });
    expect(health.status).toBe(200);
    const ready = await api.request('GET', '/readyz', { auth: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });
  });

  it('gives every response a request id, keeping a valid incoming one', async () => {
    const own = await api.request('GET', '/healthz', { headers: { 'x-request-id': 'req-42' } });
    expect(own.headers.get('x-request-id')).toBe('req-42');
    const bad = await api.request('GET', '/nope', {
      headers: { 'x-request-id': 'has spaces / slashes' },
    });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('fails readiness while Redis is unreachable', async () => {
    const deadRedis = new RedisBroker({ url: `redis://127.0.0.1:${await freePort()}` });
    const down = await startTestApi({ broker: deadRedis });
    try {
      const ready = await down.request('GET', '/readyz', { auth: null });
      expect(ready.status).toBe(503);
      expect(ready.body.code).toBe('unavailable');
      expect(ready.headers.get('retry-after')).toBe('5');
    } finally {
      await down.close();
      await deadRedis.close();
    }
  });

  it('exposes stream metrics and process metrics for Prometheus', async () => {
    const id = (await api.request('POST', '/v1/sessions', { body: {} })).body.id;
    const client = await SseClient.open(`${api.url}/v1/sessions/${id}/stream`, {
      authorization: `Bearer ${API_KEY}`,
    });
    await client.waitFor('live', () => client.control('live').length === 1);
    const res = await api.request('GET', '/metrics', { auth: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^sessionwire_open_streams 1$/m);
    expect(res.text).toMatch(/^sessionwire_stream_resumes_total\{outcome="replayed"\} 1$/m);
    expect(res.text).toMatch(/^sessionwire_replayed_events_total 1$/m);
    for (const name of [
      'sessionwire_gaps_sent_total',
      'sessionwire_sync_rounds_total',
      'sessionwire_sync_catchups_total',
      'sessionwire_slow_client_closes_total',
      'sessionwire_hints_missed_total',
      'sessionwire_hints_repaired_total',
      'sessionwire_publish_to_write_seconds_bucket',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(res.text).toContain(name);
    }
    client.abort();
  });

  it('describes every route, its errors and its auth in OpenAPI 3', async () => {
    const res = await api.request('GET', '/openapi.json', { auth: null });
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\./);
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`),
    );
    expect(routes.sort()).toEqual([...ROUTES].sort());
    const stream = doc.paths['/v1/sessions/{id}/stream'].get;
    expect(Object.keys(stream.responses['200'].content)).toEqual(['text/event-stream']);
    expect(stream.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['id', 'after', 'access_token', 'Last-Event-ID']),
    );
    const resume = doc.paths['/v1/ai-sdk/chat/{id}/stream'].get;
    expect(Object.keys(resume.responses).sort()).toEqual(
      ['200', '204', '400', '401', '403', '404', '500', '503'].sort(),
    );
    const chat = doc.paths['/v1/ai-sdk/chat'].post;
    expect(Object.keys(chat.responses['200'].content)).toEqual(['text/event-stream']);
    expect(chat.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/ChatRequest',
    );
    const post = doc.paths['/v1/sessions/{id}/messages'].post;
    expect(Object.keys(post.responses).sort()).toEqual(
      ['200', '202', '400', '401', '403', '404', '409', '413', '415', '429', '500', '503'].sort(),
    );
    expect(post.responses['409'].content['application/problem+json'].schema.$ref).toBe(
      '#/components/schemas/Problem',
    );
    expect(post.security).toEqual([{ bearer: [] }]);
    for (const ref of JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? []) {
      expect(doc.components.schemas[ref.split('/').pop()!]).toBeDefined();
    }
    const docs = await fetch(`${api.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('lists in OpenAPI the agents a session may name, each with its description', async () => {
    const doc = (await api.request('GET', '/openapi.json', { auth: null })).body;
    const agent = doc.components.schemas.CreateSessionRequest.properties.agent;
    expect(agent.enum).toEqual(Object.keys(AGENTS));
    expect(agent.enum).toEqual(api.config.agents);
    expect(agent['x-enum-descriptions']).toEqual(Object.values(AGENTS).map((a) => a.description));
  });
});
