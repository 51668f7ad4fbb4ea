import { runRetention } from '@sessionwire/events';
import { SessionStream } from '@sessionwire/transport/client';
import {
  partitionPastDays,
  seedSessionHistory,
  type SeededSession,
} from '../../../../test/history-seed';
import { API_KEY, startTestApi, type TestApi } from '../../test/api-test-app';
import { SseClient } from '../../test/sse-client';

const auth = { authorization: `Bearer ${API_KEY}` };
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * PROTOCOL §8 on the stream, against real retention: events written over seven days (created_at
 * in the past, as the store writes it), the partitions older than three days dropped, then
 * resumes from cursors that retention removed, kept, or sits on the boundary.
 */
describe('stream resume after retention', () => {
  let api: TestApi;
  let old: SeededSession; // seqs 1..70, ten a day over 7 days; 1..30 removed
  let gone: SeededSession; // seqs 1..20 over the two oldest days, all removed
  const clients: SseClient[] = [];

  const open = async (id: string, after: number) => {
    const client = await SseClient.open(`${api.url}/v1/sessions/${id}/stream?after=${after}`, auth);
    clients.push(client);
    await client.waitFor('live', () => client.control('live').length === 1);
    return client;
  };
  /** The frames in order: a gap as `gap:<reason>:<from>-<to>`, an event as its seq. */
  const sequence = (client: SseClient) =>
    client.frames
      .filter((f) => f.event !== 'heartbeat' && f.event !== 'live')
      .map((f) => {
        const data = JSON.parse(f.data);
        return f.event === 'gap' ? `gap:${data.reason}:${data.fromSeq}-${data.toSeq}` : data.seq;
      });

  beforeAll(async () => {
    // the replay cap sits between the two resumes below: 70 - 15 fits, 70 - 5 does not
    api = await startTestApi({ env: { MAX_REPLAY_GAP: '60', SYNC_INTERVAL_MS: '200' } });
    await partitionPastDays(api.db, 6);
    old = await seedSessionHistory(api.db, [6, 5, 4, 3, 2, 1, 0], 10);
    gone = await seedSessionHistory(api.db, [6, 5], 10);
    const result = await runRetention(api.db.url, {
      applicationName: 'sessionwire-test',
      retentionDays: 3,
    });
    expect(result.dropped).toHaveLength(3);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.abort();
  });
  afterAll(() => api.close());

  it('sends history_expired for the removed seqs, then every event still stored', async () => {
    const client = await open(old.sessionId, 15);
    expect(sequence(client)).toEqual(['gap:history_expired:16-30', ...range(31, 70)]);
    expect(client.control('gap')[0]).toMatchObject({
      sessionId: old.sessionId,
      headSeq: 70,
      historyUrl: `/v1/sessions/${old.sessionId}/events?after=15&limit=1000`,
    });
  });

  it('resumes without a gap from the last removed seq or any kept one', async () => {
    for (const after of [30, 31, 45, 69]) {
      const client = await open(old.sessionId, after);
      expect({ after, got: sequence(client) }).toEqual({ after, got: range(after + 1, 70) });
    }
    expect(sequence(await open(old.sessionId, 70))).toEqual([]);
  });

  it('covers the whole head with the gap when nothing is left, then goes on live', async () => {
    const client = await open(gone.sessionId, 3);
    expect(sequence(client)).toEqual(['gap:history_expired:4-20']);
    await api.request('POST', `/v1/sessions/${gone.sessionId}/messages`, {
      body: { content: 'after the drop' },
    });
    await client.waitFor('seq 21', () => client.seqs().includes(21));
    expect(sequence(client)).toEqual(['gap:history_expired:4-20', 21]);
  });

  it('lets a resume past the replay cap keep its own gap; backfill then returns what exists', async () => {
    const client = await open(old.sessionId, 5);
    expect(sequence(client)).toEqual(['gap:replay_gap_exceeded:6-70']);
    const stream = new SessionStream({
      baseUrl: api.url,
      sessionId: old.sessionId,
      token: API_KEY,
    });
    try {
      const backfilled = await stream.backfillAll({ fromSeq: 6, toSeq: 70 });
      expect(backfilled.map((e) => e.seq)).toEqual(range(31, 70));
    } finally {
      stream.close();
    }
  });

  it('reaches the SDK as a gap whose backfill is empty, then the rest', async () => {
    const stream = new SessionStream({
      baseUrl: api.url,
      sessionId: old.sessionId,
      token: API_KEY,
      after: 25,
    });
    const got: (number | string)[] = [];
    const backfilled: number[][] = [];
    // leaving the loop closes the stream, so the gap is backfilled as it arrives
    for await (const item of stream) {
      if (item.kind === 'event') got.push(item.event.seq);
      if (item.kind === 'live') break;
      if (item.kind !== 'gap') continue;
      got.push(`gap:${item.gap.reason}:${item.gap.fromSeq}-${item.gap.toSeq}`);
      backfilled.push((await stream.backfillAll(item.gap)).map((e) => e.seq));
    }
    expect(stream.closed).toBe(true);
    expect(got).toEqual(['gap:history_expired:26-30', ...range(31, 70)]);
    expect(backfilled).toEqual([[]]);
  });
});
