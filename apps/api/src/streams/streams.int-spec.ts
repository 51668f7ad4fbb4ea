import { connect } from 'node:net';
import { waitFor } from '../../../../test/process';
import { API_KEY, startTestApi, type TestApi } from '../../test/api-test-app';
import { SseClient } from '../../test/sse-client';
import { TestProducer } from '../../test/test-producer';
import { LifecycleService } from '../health/lifecycle.service';
import { StreamRoute } from './stream.route';

const auth = { authorization: `Bearer ${API_KEY}` };

describe(StreamRoute.name, () => {
  let api: TestApi;
  let producer: TestProducer;
  const clients: SseClient[] = [];

  const open = async (id: string, query = '', headers: Record<string, string> = {}) => {
    const client = await SseClient.open(`${api.url}/v1/sessions/${id}/stream${query}`, {
      ...auth,
      ...headers,
    });
    clients.push(client);
    return client;
  };
  const session = async (messages: number) => {
    const id = (await api.request('POST', '/v1/sessions', { body: {} })).body.id as string;
    for (let i = 0; i < messages; i++) {
      await api.request('POST', `/v1/sessions/${id}/messages`, { body: { content: `m${i}` } });
    }
    return id;
  };

  beforeAll(async () => {
    api = await startTestApi({ env: { SYNC_INTERVAL_MS: '200' } });
    producer = new TestProducer(api.db, api.broker);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.abort();
  });
  afterAll(() => api.close());

  it('sends SSE headers and retry at once, uncompressed, then the log and live', async () => {
    const id = await session(2);
    const client = await open(id, '', { 'accept-encoding': 'gzip, br' });
    expect(client.status).toBe(200);
    expect(client.headers?.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(client.headers?.get('cache-control')).toBe('no-cache, no-transform');
    expect(client.headers?.get('x-accel-buffering')).toBe('no');
    expect(client.headers?.get('content-encoding')).toBeNull();
    await client.waitFor('live', () => client.control('live').length === 1);
    expect(client.retries.length).toBeGreaterThanOrEqual(1);
    expect(client.seqs()).toEqual([1, 2, 3]);

    await api.request('POST', `/v1/sessions/${id}/messages`, { body: { content: 'live one' } });
    await client.waitFor('seq 4', () => client.seqs().includes(4));
    expect(client.seqs()).toEqual([1, 2, 3, 4]);
  });

  it('takes the cursor from Last-Event-ID over ?after=, even an invalid ?after=', async () => {
    const id = await session(5);
    const header = await open(id, '?after=1', { 'last-event-id': '4' });
    const invalidAfter = await open(id, '?after=abc', { 'last-event-id': '4' });
    const emptyHeader = await open(id, '?after=2', { 'last-event-id': '' });
    for (const client of [header, invalidAfter, emptyHeader]) {
      expect(client.status).toBe(200);
      await client.waitFor('live', () => client.control('live').length === 1);
    }
    expect(header.seqs()).toEqual([5, 6]);
    expect(invalidAfter.seqs()).toEqual([5, 6]);
    expect(emptyHeader.seqs()).toEqual([3, 4, 5, 6]);
  });

  it('ends with an `end` frame for an ENDED session, then 204 at head', async () => {
    const id = await session(1);
    const ended = await api.request('POST', `/v1/sessions/${id}/end`);
    const client = await open(id, '?after=1');
    await client.done;
    expect(client.seqs()).toEqual([2, 3]);
    expect(client.control('end')).toEqual([{ sessionId: id, headSeq: ended.body.headSeq }]);
    const atHead = await open(id, '', { 'last-event-id': String(ended.body.headSeq) });
    expect(atHead.status).toBe(204);
  });

  it('delivers a live turn in order and follows the session to its end', async () => {
    const id = await session(1);
    const client = await open(id);
    await client.waitFor('live', () => client.control('live').length === 1);
    await producer.activate(id);
    await producer.startTurn(id);
    await producer.deltas(id, 20);
    await producer.completeTurn(id);
    await api.request('POST', `/v1/sessions/${id}/end`);
    await client.done;
    const head = await api.db.store.getHeadSeq(id);
    expect(client.seqs()).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(client.control('end')).toHaveLength(1);
  });

  it('answers 404 for an unknown session and 400 for a bad cursor before streaming', async () => {
    const unknown = await open('01890000-0000-7000-8000-000000000000');
    expect(unknown.status).toBe(404);
    const id = await session(0);
    expect((await open(id, '?after=-1')).status).toBe(400);
    expect((await open(id, '', { 'last-event-id': '1e9999' })).status).toBe(400);
  });

  it('closes a client that never reads once its unsent buffer passes the limit', async () => {
    const small = await startTestApi({ env: { STREAM_MAX_BUFFER_BYTES: '65536' } });
    const socket = connect(Number(new URL(small.url).port), '127.0.0.1');
    try {
      const id = (await small.request('POST', '/v1/sessions', { body: {} })).body.id;
      await small.request('POST', `/v1/sessions/${id}/messages`, { body: { content: 'go' } });
      const slowProducer = new TestProducer(small.db, small.broker);
      await slowProducer.activate(id);
      await slowProducer.startTurn(id);
      socket.write(
        `GET /v1/sessions/${id}/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n\r\n`,
      );
      socket.pause();
      const closed = new Promise((resolve) => socket.once('close', resolve));
      const metric = async (name: string) => {
        const text = (await small.request('GET', '/metrics')).text;
        return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
      };
      await waitFor(
        'one open stream',
        async () => (await metric('sessionwire_open_streams')) === 1,
        10_000,
        25,
      );
      // Far more than the kernel's socket buffers and the 64 KiB limit together.
      const big = 'x'.repeat(60 * 1024);
      const { turnId } = await small.db.store.requireSession(id);
      for (let i = 0; i < 1000; i++) {
        await slowProducer.append(id, [
          { type: 'message.delta', data: { turnId: turnId!, text: big } },
        ]);
        if (i % 20 === 19 && (await metric('sessionwire_slow_client_closes_total')) > 0) break;
      }
      expect(await metric('sessionwire_slow_client_closes_total')).toBe(1);
      await waitFor(
        'no open stream',
        async () => (await metric('sessionwire_open_streams')) === 0,
        10_000,
        25,
      );
      socket.resume();
      socket.on('data', () => undefined);
      await closed;
    } finally {
      socket.destroy();
      await small.close();
    }
  });

  it('refuses new streams with 503 and Retry-After while draining', async () => {
    const draining = await startTestApi();
    try {
      const id = (await draining.request('POST', '/v1/sessions', { body: {} })).body.id;
      draining.app.get(LifecycleService).beginDrain();
      const res = await draining.request('GET', `/v1/sessions/${id}/stream`);
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('unavailable');
      expect(res.headers.get('retry-after')).toBe('1');
      expect((await draining.request('GET', '/readyz')).status).toBe(503);
      expect((await draining.request('GET', '/healthz')).status).toBe(200);
      expect((await draining.request('GET', `/v1/sessions/${id}`)).status).toBe(200);
    } finally {
      await draining.close();
    }
  });
});
