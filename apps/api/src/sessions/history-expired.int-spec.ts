import { runRetention } from '@sessionwire/events';
import { SessionStream } from '@sessionwire/transport/client';
import {
  partitionPastDays,
  seedSessionHistory,
  type SeededSession,
} from '../../../../test/history-seed';
import { API_KEY, startTestApi, type TestApi } from '../../test/api-test-app';

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** PROTOCOL §8 over REST: seqs removed by retention answer 410 `history_expired`. */
describe('GET /v1/sessions/:id/events after retention', () => {
  let api: TestApi;
  let old: SeededSession; // seqs 1..70 over 7 days; 1..30 removed
  let gone: SeededSession; // seqs 1..20, all removed

  beforeAll(async () => {
    api = await startTestApi();
    await partitionPastDays(api.db, 6);
    old = await seedSessionHistory(api.db, [6, 5, 4, 3, 2, 1, 0], 10);
    gone = await seedSessionHistory(api.db, [6, 5], 10);
    await runRetention(api.db.url, { applicationName: 'sessionwire-test', retentionDays: 3 });
  });
  afterAll(() => api.close());

  const events = (id: string, query: string) =>
    api.request('GET', `/v1/sessions/${id}/events?${query}`);
  const seqsOf = (res: { body: { events: { seq: number }[] } }) =>
    res.body.events.map((e) => e.seq);

  it('answers 410 history_expired with oldestSeq when asked for removed seqs after a cursor', async () => {
    const res = await events(old.sessionId, 'after=0');
    expect(res.status).toBe(410);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: 'https://sessionwire.dev/problems/history-expired',
      status: 410,
      code: 'history_expired',
      oldestSeq: 31,
    });
    expect((await events(old.sessionId, 'after=29&limit=5')).status).toBe(410);
  });

  it('serves what still exists, from oldestSeq on', async () => {
    const res = await events(old.sessionId, 'after=30&limit=5');
    expect(res.status).toBe(200);
    expect(seqsOf(res)).toEqual(range(31, 35));
    expect(res.body).toMatchObject({ headSeq: 70, hasMore: true });
  });

  it('pages backwards down to oldestSeq, then answers 410 below it', async () => {
    const page = await events(old.sessionId, 'before=41&limit=10');
    expect(page.status).toBe(200);
    expect(seqsOf(page)).toEqual(range(31, 40));
    expect(page.body.hasMore).toBe(false);
    const more = await events(old.sessionId, 'before=51&limit=10');
    expect(more.body.hasMore).toBe(true);
    const below = await events(old.sessionId, 'before=35&limit=10');
    expect(below.status).toBe(410);
    expect(below.body.oldestSeq).toBe(31);
  });

  it('answers 410 with the next seq to be written when nothing is left', async () => {
    const res = await events(gone.sessionId, 'after=0');
    expect(res.status).toBe(410);
    expect(res.body.oldestSeq).toBe(21);
    expect((await events(gone.sessionId, 'after=20')).status).toBe(200);
    const session = await api.request('GET', `/v1/sessions/${gone.sessionId}`);
    expect(session.body.headSeq).toBe(20);
  });

  it("lets the SDK's backfill return what still exists", async () => {
    const stream = new SessionStream({
      baseUrl: api.url,
      sessionId: old.sessionId,
      token: API_KEY,
    });
    const backfilled = await stream.backfillAll({ fromSeq: 1, toSeq: 40 });
    expect(backfilled.map((e) => e.seq)).toEqual(range(31, 40));
    const none = new SessionStream({ baseUrl: api.url, sessionId: gone.sessionId, token: API_KEY });
    expect(await none.backfillAll({ fromSeq: 5, toSeq: 15 })).toEqual([]);
    stream.close();
    none.close();
  });

  it('documents the 410 in OpenAPI', async () => {
    const doc = (await api.request('GET', '/openapi.json', { auth: null })).body;
    const get = doc.paths['/v1/sessions/{id}/events'].get;
    expect(get.responses['410'].content['application/problem+json'].schema.$ref).toBe(
      '#/components/schemas/Problem',
    );
    expect(doc.components.schemas.Problem.properties.oldestSeq).toBeDefined();
    expect(doc.components.schemas.Problem.properties.code.enum).toContain('history_expired');
  });
});
