import { waitFor } from '../process';
import {
  expectMatchesLog,
  FaultClient,
  readLog,
  useFaultCluster,
  waitForTurns,
} from './fault-support';

const HOG_KEY = 'hog-key-0123456789abcdef';
const GOOD_KEY = 'good-key-0123456789abcdef';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const PER_SESSION = 6;
const PER_CREDENTIAL = 8;
const MESSAGES = 5;

// One client must not take a node down: streams opened in a loop and messages posted in a loop
// are refused with 429 (Retry-After) while every other client keeps its stream, and a refused
// message appends nothing.
describe('Fault suite: abuse limits', () => {
  const suite = useFaultCluster({
    apiNodes: 2,
    workers: 1,
    env: {
      API_KEYS: `${HOG_KEY},${GOOD_KEY}`,
      MAX_STREAMS_PER_SESSION: String(PER_SESSION),
      MAX_STREAMS_PER_CREDENTIAL: String(PER_CREDENTIAL),
      MAX_MESSAGES_PER_SESSION_PER_MINUTE: String(MESSAGES),
    },
  });

  async function request(url: string, key: string, init: RequestInit = {}) {
    return fetch(url, { ...init, headers: { ...auth(key), ...init.headers } });
  }

  async function createSession(): Promise<string> {
    const response = await request(`${suite.cluster.url}/v1/sessions`, GOOD_KEY, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  }

  function postMessage(node: string, sessionId: string, content: string) {
    return request(`${node}/v1/sessions/${sessionId}/messages`, GOOD_KEY, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content }),
    });
  }

  async function expectRateLimited(response: Response): Promise<void> {
    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await response.json()) as { code: string }).code).toBe('rate_limited');
  }

  async function limitedCount(node: string, limit: string): Promise<number> {
    const text = await (await fetch(`${node}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`sessionwire_rate_limited_total{limit="${limit}"}`));
    return Number(line?.split(' ').at(-1) ?? NaN);
  }

  it('refuses streams past the per-session and per-credential caps while other streams go on', async () => {
    const c = suite.cluster;
    const node = c.apiUrls[0];
    const [busy, other] = [await createSession(), await createSession()];
    const good = [busy, busy, other].map((id) =>
      new FaultClient(node, id, { headers: auth(GOOD_KEY) }).start(),
    );
    await waitFor('good clients connected', () => good.every((g) => g.connections === 1), 10_000);
    // An answer that leaves no stream open (HEAD) holds no slot.
    for (let i = 0; i < 2 * PER_SESSION; i++) {
      const head = await request(`${node}/v1/sessions/${busy}/stream`, HOG_KEY, { method: 'HEAD' });
      expect(head.status).toBe(200);
    }
    // The hog opens streams of `busy` in a loop and holds them.
    const held: AbortController[] = [];
    const open = async (sessionId: string) => {
      const abort = new AbortController();
      const response = await request(`${node}/v1/sessions/${sessionId}/stream`, HOG_KEY, {
        signal: abort.signal,
      });
      if (response.status === 200) held.push(abort);
      return response;
    };
    let refused: Response | undefined;
    for (let i = 0; i < 50 && !refused; i++) {
      const response = await open(busy);
      if (response.status !== 200) refused = response;
    }
    expect(held).toHaveLength(PER_SESSION - 2);
    await expectRateLimited(refused!);
    expect(await limitedCount(node, 'streams_per_session')).toBe(1);
    // Another node counts its own streams.
    const elsewhere = await request(`${c.apiUrls[1]}/v1/sessions/${busy}/stream`, HOG_KEY);
    expect(elsewhere.status).toBe(200);
    await elsewhere.body!.cancel();
    // The per-credential cap over other sessions: the hog holds PER_SESSION - 2 already.
    refused = undefined;
    for (let i = 0; i < 50 && !refused; i++) {
      const response = await open(await createSession());
      if (response.status !== 200) refused = response;
    }
    expect(held).toHaveLength(PER_CREDENTIAL);
    await expectRateLimited(refused!);
    expect(await limitedCount(node, 'streams_per_credential')).toBe(1);
    // Everyone else keeps streaming, and a freed slot is taken again.
    for (const id of [busy, other]) {
      expect((await postMessage(c.url, id, '/stream 30 5')).status).toBe(202);
    }
    await waitForTurns(suite.db, [busy, other], 1);
    for (const abort of held.splice(0)) abort.abort();
    await waitFor(
      'a freed slot is taken',
      async () => {
        const response = await open(busy);
        if (response.status !== 200) await response.body?.cancel();
        return response.status === 200;
      },
      10_000,
      100,
    );
    for (const abort of held.splice(0)) abort.abort();
    for (const id of [busy, other]) {
      expect(
        (await request(`${c.url}/v1/sessions/${id}/end`, GOOD_KEY, { method: 'POST' })).status,
      ).toBe(202);
    }
    await Promise.all(good.map((g) => g.finished(30_000)));
    for (const client of good) expectMatchesLog(client, await readLog(suite.db, client.sessionId));
  }, 90_000);

  it('refuses messages past the per-session rate across nodes and appends nothing for them', async () => {
    const c = suite.cluster;
    const sessionId = await createSession();
    const statuses: number[] = [];
    for (let i = 0; i < MESSAGES + 4; i++) {
      const response = await postMessage(c.apiUrls[i % 2], sessionId, `hello ${i}`);
      statuses.push(response.status);
      if (response.status === 429) await expectRateLimited(response);
      else await response.body?.cancel();
    }
    expect(statuses).toEqual([...Array(MESSAGES).fill(202), ...Array(4).fill(429)]);
    const counted =
      (await limitedCount(c.apiUrls[0], 'messages_per_session')) +
      (await limitedCount(c.apiUrls[1], 'messages_per_session'));
    expect(counted).toBe(4);
    // Another session is not affected.
    const other = await createSession();
    expect((await postMessage(c.url, other, 'hi')).status).toBe(202);
    await waitForTurns(suite.db, [sessionId], MESSAGES);
    const log = await readLog(suite.db, sessionId);
    expect(
      log
        .filter((e) => e.type === 'message.user')
        .map((e) => (e.data as { content: string }).content),
    ).toEqual(Array.from({ length: MESSAGES }, (_, i) => `hello ${i}`));
    expect(log.filter((e) => e.type === 'turn.started')).toHaveLength(MESSAGES);
  }, 60_000);
});
