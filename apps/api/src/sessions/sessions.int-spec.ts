import { waitFor } from '../../../../test/process';
import { HintRecorder } from '../../test/hint-recorder';
import { startTestApi, type TestApi } from '../../test/api-test-app';
import { TestProducer } from '../../test/test-producer';
import { SessionsController } from './sessions.controller';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe(SessionsController.name, () => {
  let api: TestApi;
  let producer: TestProducer;
  let hints: HintRecorder;

  beforeAll(async () => {
    api = await startTestApi({ env: { MAX_MESSAGE_BYTES: '64' } });
    producer = new TestProducer(api.db, api.broker);
    hints = await new HintRecorder(api.broker).listenWork();
  });
  afterAll(async () => {
    await hints.close();
    await api.close();
  });

  const create = async (body: unknown = {}) => {
    const res = await api.request('POST', '/v1/sessions', { body });
    expect(res.status).toBe(201);
    return res.body as { id: string; headSeq: number; state: string };
  };
  const post = (id: string, body: unknown) =>
    api.request('POST', `/v1/sessions/${id}/messages`, { body });
  const events = (id: string, query: string) =>
    api.request('GET', `/v1/sessions/${id}/events?${query}`);

  it('creates a session with the demo agent by default and reads it back', async () => {
    const created = await create({ metadata: { user: 'u1' } });
    expect(created).toMatchObject({
      agent: 'demo',
      state: 'CREATED',
      activity: 'idle',
      headSeq: 1,
      metadata: { user: 'u1' },
    });
    expect(created.id).toMatch(UUID_V7);
    const got = await api.request('GET', `/v1/sessions/${created.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created);
    expect((await api.request('POST', '/v1/sessions')).status).toBe(201);
    expect((await create({ agent: 'openai' })).state).toBe('CREATED');
  });

  it('refuses an unknown agent with 400 and creates nothing', async () => {
    const before = await api.db.store.listSessions({ limit: 1000 });
    const res = await api.request('POST', '/v1/sessions', { body: { agent: 'nope' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(await api.db.store.listSessions({ limit: 1000 })).toHaveLength(before.length);
  });

  it('lists sessions newest first in keyset pages with an opaque cursor and a state filter', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create()).id);
    await api.request('POST', `/v1/sessions/${ids[1]}/end`);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api.request(
        'GET',
        `/v1/sessions?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.sessions.map((s: { id: string }) => s.id));
      cursor = res.body.nextCursor;
      if (cursor) expect(cursor).not.toContain(res.body.sessions[1].id);
      pages++;
    } while (cursor);
    const all = await api.db.store.listSessions({ limit: 1000 });
    expect(seen).toEqual(all.map((s) => s.id));
    expect(seen.slice(0, 5)).toEqual([...ids].reverse());
    expect(pages).toBe(Math.ceil(all.length / 2));

    const ended = await api.request('GET', '/v1/sessions?state=ENDED');
    expect(ended.body.sessions.map((s: { id: string }) => s.id)).toEqual([ids[1]]);
    expect(ended.body.nextCursor).toBeNull();
    expect((await api.request('GET', '/v1/sessions?limit=5000')).status).toBe(200);
    expect((await api.request('GET', '/v1/sessions?limit=0')).status).toBe(400);
    expect((await api.request('GET', '/v1/sessions?cursor=garbage!')).status).toBe(400);
    expect((await api.request('GET', '/v1/sessions?state=ASLEEP')).status).toBe(400);
  });

  it('pages history after and before a seq, with hasMore', async () => {
    const { id } = await create();
    for (let i = 0; i < 10; i++) expect((await post(id, { content: `m${i}` })).status).toBe(202);
    const seqs = (res: { body: { events: { seq: number }[] } }) =>
      res.body.events.map((e) => e.seq);

    const first = await events(id, 'after=0&limit=4');
    expect(first.status).toBe(200);
    expect(seqs(first)).toEqual([1, 2, 3, 4]);
    expect(first.body).toMatchObject({
      sessionId: id,
      headSeq: 11,
      state: 'CREATED',
      hasMore: true,
    });
    expect(first.body.events[1]).toMatchObject({ type: 'message.user', data: { content: 'm0' } });
    const last = await events(id, 'after=8&limit=4');
    expect(seqs(last)).toEqual([9, 10, 11]);
    expect(last.body.hasMore).toBe(false);
    expect(seqs(await events(id, 'after=7&limit=4'))).toEqual([8, 9, 10, 11]);
    expect((await events(id, 'after=7&limit=4')).body.hasMore).toBe(false);
    expect(seqs(await events(id, ''))).toHaveLength(11);

    const older = await events(id, 'before=5&limit=2');
    expect(seqs(older)).toEqual([3, 4]);
    expect(older.body.hasMore).toBe(true);
    const oldest = await events(id, 'before=3&limit=5');
    expect(seqs(oldest)).toEqual([1, 2]);
    expect(oldest.body.hasMore).toBe(false);
    expect(seqs(await events(id, 'before=1'))).toEqual([]);
    expect(seqs(await events(id, 'after=11'))).toEqual([]);
    expect(seqs(await events(id, 'after=1&limit=99999'))).toHaveLength(10);
  });

  it('clamps a history limit above 1000 to 1000', async () => {
    const { id } = await create();
    await post(id, { content: 'go' });
    await producer.activate(id);
    await producer.startTurn(id);
    await producer.bulkDeltas(id, 1100);
    const page = await events(id, 'after=0&limit=5000');
    expect(page.body.events).toHaveLength(1000);
    expect(page.body.hasMore).toBe(true);
  });

  it('accepts a message once per clientMessageId and publishes its hints', async () => {
    const { id } = await create();
    const sessionHints = await new HintRecorder(api.broker).listenSession(id);
    const body = { clientMessageId: 'cm-1', content: 'héllo' };
    const first = await post(id, body);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({
      sessionId: id,
      seq: 2,
      clientMessageId: 'cm-1',
      duplicate: false,
    });
    const retry = await post(id, body);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ ...first.body, duplicate: true });
    const conflict = await post(id, { clientMessageId: 'cm-1', content: 'hello' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('idempotency_conflict');
    expect(await api.db.store.getHeadSeq(id)).toBe(2);

    const generated = await post(id, { content: 'no id' });
    expect(generated.status).toBe(202);
    expect(generated.body.clientMessageId).toMatch(UUID_V7);

    await waitFor('two session hints', () => sessionHints.sessions.length >= 2, 5000, 20);
    expect(sessionHints.sessions.map((h) => h.headSeq)).toEqual([2, 3]);
    expect(sessionHints.sessions[0].events?.[0]).toMatchObject({ seq: 2, type: 'message.user' });
    await waitFor('two work hints', () => hints.workFor(id).length >= 2, 5000, 20);
    expect(hints.workFor(id)).toEqual([
      { kind: 'input', sessionId: id },
      { kind: 'input', sessionId: id },
    ]);
    await sessionHints.close();
  });

  it('limits content to MAX_MESSAGE_BYTES of UTF-8 (413) and refuses empty content (400)', async () => {
    const { id } = await create();
    expect((await post(id, { content: 'x'.repeat(64) })).status).toBe(202);
    const tooBig = await post(id, { content: 'é'.repeat(33) });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.code).toBe('payload_too_large');
    expect((await post(id, { content: '' })).status).toBe(400);
    expect(await api.db.store.getHeadSeq(id)).toBe(2);
  });

  it('interrupts only a running turn and publishes an interrupt hint', async () => {
    const { id } = await create();
    const idle = await api.request('POST', `/v1/sessions/${id}/interrupt`);
    expect(idle.status).toBe(202);
    expect(idle.body).toEqual({ sessionId: id, turnId: null });
    expect(await api.db.store.getHeadSeq(id)).toBe(1);

    await post(id, { content: 'work' });
    await producer.activate(id);
    const { turnId } = await producer.startTurn(id);
    const running = await api.request('POST', `/v1/sessions/${id}/interrupt`);
    expect(running.status).toBe(202);
    expect(running.body).toEqual({ sessionId: id, turnId });
    const [last] = await api.db.store.getEventsBefore(id, 1e9, 1);
    expect(last).toMatchObject({ type: 'interrupt.requested', data: { turnId } });
    await waitFor(
      'an interrupt hint',
      () => hints.workFor(id).some((h) => h.kind === 'interrupt'),
      5000,
      20,
    );
    expect(hints.workFor(id)).toContainEqual({ kind: 'interrupt', sessionId: id, turnId });
  });

  it('ends a session once: closes the running turn, fences the worker, then stays unchanged', async () => {
    const { id } = await create();
    await post(id, { clientMessageId: 'before-end', content: 'work' });
    await producer.activate(id);
    const { turnId } = await producer.startTurn(id);
    const ended = await api.request('POST', `/v1/sessions/${id}/end`);
    expect(ended.status).toBe(202);
    expect(ended.body).toMatchObject({ id, state: 'ENDED', activity: 'idle' });
    const tail = await api.db.store.getEventsBefore(id, 1e9, 2);
    expect(tail.map((e) => e.type)).toEqual(['turn.completed', 'session.state']);
    expect(tail[0].data).toMatchObject({ turnId, stopReason: 'interrupted' });
    await expect(producer.deltas(id, 1)).rejects.toMatchObject({ code: 'stale_lease' });

    const again = await api.request('POST', `/v1/sessions/${id}/end`);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(ended.body);
    await waitFor('an end hint', () => hints.workFor(id).some((h) => h.kind === 'end'), 5000, 20);
    expect(hints.workFor(id).filter((h) => h.kind === 'end')).toHaveLength(1);

    const retried = await post(id, { clientMessageId: 'before-end', content: 'work' });
    expect(retried.status).toBe(200);
    expect(retried.body.duplicate).toBe(true);
    const refused = await post(id, { content: 'too late' });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('session_ended');
    const interrupt = await api.request('POST', `/v1/sessions/${id}/interrupt`);
    expect(interrupt.status).toBe(409);
    expect(interrupt.body.code).toBe('session_ended');
    expect(await api.db.store.getHeadSeq(id)).toBe(ended.body.headSeq);
  });

  it('reports session_not_found for a well-formed unknown id on every session route', async () => {
    const unknown = '01890000-0000-7000-8000-000000000000';
    const routes: [string, string, unknown?][] = [
      ['GET', ''],
      ['GET', '/events'],
      ['POST', '/messages', { content: 'x' }],
      ['POST', '/interrupt'],
      ['POST', '/end'],
      ['POST', '/tokens', { scope: ['read'] }],
    ];
    for (const [method, suffix, body] of routes) {
      const res = await api.request(method, `/v1/sessions/${unknown}${suffix}`, { body });
      expect([method + suffix, res.status, res.body.code]).toEqual([
        method + suffix,
        404,
        'session_not_found',
      ]);
    }
  });
});
