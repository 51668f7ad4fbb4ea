import { HttpError } from './errors';
import { pageHistory, type HistoryRequest } from './history';
import { BaseUrlRing } from './http';
import { FakeClock } from './testing/fake-clock';
import { FakeServer, json, SESSION_ID, storedEvent } from './testing/fake-server';

function request(server: FakeServer, fromSeq: number, toSeq: number): HistoryRequest {
  return {
    fetch: server.fetch,
    clock: new FakeClock(),
    random: () => 0.5,
    urls: new BaseUrlRing('http://api.test'),
    token: 'key-1',
    sessionId: SESSION_ID,
    fromSeq,
    toSeq,
    limit: 2,
    timeoutMs: 1000,
    backoff: { baseMs: 10, maxMs: 100 },
    maxAttempts: 3,
  };
}

const page = (seqs: number[], hasMore: boolean) =>
  json(200, {
    sessionId: SESSION_ID,
    events: seqs.map((s) => storedEvent(s)),
    headSeq: 9,
    state: 'ACTIVE',
    activity: 'idle',
    hasMore,
  });

const expired = (oldestSeq?: number) =>
  json(410, {
    type: 'https://sessionwire.dev/problems/history-expired',
    title: 'History expired',
    status: 410,
    detail: 'removed by retention',
    code: 'history_expired',
    ...(oldestSeq === undefined ? {} : { oldestSeq }),
  });

async function collect(req: HistoryRequest): Promise<number[][]> {
  const pages: number[][] = [];
  for await (const events of pageHistory(req)) pages.push(events.map((e) => e.seq));
  return pages;
}

describe(pageHistory.name, () => {
  it('skips what retention removed (410 history_expired) and returns what still exists', async () => {
    const server = new FakeServer().reply(expired(4), page([4, 5], true), page([6, 7], true));
    expect(await collect(request(server, 1, 6))).toEqual([[4, 5], [6]]);
    expect(server.requests.map((r) => new URL(r.url).search)).toEqual([
      '?after=0&limit=2',
      '?after=3&limit=2',
      '?after=5&limit=2',
    ]);
  });

  it('returns nothing when everything asked for was removed', async () => {
    const server = new FakeServer().reply(expired(8));
    expect(await collect(request(server, 2, 5))).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('throws rather than loop when the server keeps answering 410 for the same position', async () => {
    const server = new FakeServer().reply(expired(3), expired(3));
    await expect(collect(request(server, 1, 5))).rejects.toMatchObject({ status: 410 });
    expect(server.requests).toHaveLength(2);
  });

  it('throws on a 410 without a usable oldestSeq, like any definitive error', async () => {
    const server = new FakeServer().reply(expired());
    await expect(collect(request(server, 1, 5))).rejects.toBeInstanceOf(HttpError);
  });
});
