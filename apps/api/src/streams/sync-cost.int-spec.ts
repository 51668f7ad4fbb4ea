import { EventStore, sessions } from '@sessionwire/events';
import type { SessionState } from '@sessionwire/transport/protocol';
import { eq } from 'drizzle-orm';
import { API_KEY, startTestApi, type TestApi } from '../../test/api-test-app';
import { SseClient } from '../../test/sse-client';

const SYNC_MS = 100;

/**
 * Periodic sync against real Postgres: one batched head query per round whatever the number of
 * streams, and no event read for sessions resting in SUSPENDED or DETACHED, even when their log
 * moved without a hint. A resting session that wakes up is caught up at the next round.
 */
describe('stream sync rounds', () => {
  let api: TestApi;
  let store: EventStore;
  const clients: SseClient[] = [];

  beforeAll(async () => {
    api = await startTestApi({ env: { SYNC_INTERVAL_MS: String(SYNC_MS) } });
    store = api.app.get(EventStore);
  });
  afterAll(async () => {
    for (const client of clients) client.abort();
    await api.close();
  });

  async function restingSession(state: SessionState): Promise<string> {
    const id = (await api.request('POST', '/v1/sessions', { body: {} })).body.id as string;
    // Setup only: put the row straight into the resting state the test is about.
    await api.db.handle.db.update(sessions).set({ state }).where(eq(sessions.id, id));
    for (let i = 0; i < 3; i++) {
      const client = await SseClient.open(`${api.url}/v1/sessions/${id}/stream`, {
        authorization: `Bearer ${API_KEY}`,
      });
      clients.push(client);
      await client.waitFor('live', () => client.control('live').length === 1);
    }
    return id;
  }

  const rounds = (n: number) => new Promise((r) => setTimeout(r, SYNC_MS * n + SYNC_MS / 2));

  it('costs one batched head query per round and no event reads for resting sessions', async () => {
    const suspended = await restingSession('SUSPENDED');
    const detached = await restingSession('DETACHED');
    // The log moves without any hint (the test database's own store publishes nothing): nothing
    // tells the node, and the state says "resting".
    for (const id of [suspended, detached]) {
      await api.db.store.append(id, [
        { type: 'message.delta', data: { turnId: 't', text: 'quiet' } },
      ]);
    }
    const reads = jest.spyOn(store, 'getEventsAfterMany');
    const heads = jest.spyOn(store, 'getHeads');
    try {
      await rounds(5);
      expect(reads).not.toHaveBeenCalled();
      expect(heads.mock.calls.length).toBeGreaterThanOrEqual(3);
      expect(heads.mock.calls.length).toBeLessThanOrEqual(7);
      for (const [ids] of heads.mock.calls)
        expect([...ids].sort()).toEqual([suspended, detached].sort());
      for (const client of clients) expect(client.seqs()).toEqual([1]);

      // Waking up (SUSPENDED → STARTING), also without a hint, is seen at the next round.
      await api.db.store.transition(suspended, 'SUSPENDED', 'STARTING', 'claimed');
      const woken = clients.slice(0, 3);
      for (const client of woken) {
        await client.waitFor('caught up', () => client.seqs().length === 3, 5_000);
        expect(client.seqs()).toEqual([1, 2, 3]);
      }
      // One shared read for the three streams of the woken session, none for the other.
      expect(reads.mock.calls.flatMap(([batch]) => batch.map((r) => r.sessionId))).toEqual([
        suspended,
      ]);
    } finally {
      reads.mockRestore();
      heads.mockRestore();
    }
  });
});
