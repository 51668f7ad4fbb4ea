import { randomUUID } from 'node:crypto';
import { and, eq, isNotNull } from 'drizzle-orm';
import { sessions } from '@sessionwire/events';
import type { StoredEvent } from '@sessionwire/transport/protocol';
import { RedisBroker } from '@sessionwire/transport/server';
import { postAsApi } from '../api-side';
import { createTestDatabase, testRedisPrefix, testRedisUrl, type TestDatabase } from '../database';
import { ManagedProcess, sleep, waitFor } from '../process';
import { workerProcess } from './worker-processes';

const SESSIONS = 100;

describe('a fleet of worker processes', () => {
  let db: TestDatabase;
  let api: RedisBroker;
  const prefix = testRedisPrefix();
  const workers: ManagedProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    api = new RedisBroker({ url: testRedisUrl(), prefix });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await api.close();
    await db.drop();
  });

  function startWorker(name: string) {
    const worker = workerProcess(db, prefix, name);
    workers.push(worker);
    return worker.start();
  }

  const send = (sessionId: string, content: string) => postAsApi(db.store, api, sessionId, content);

  it('answers every message exactly once while one of two workers is SIGKILLed', async () => {
    const [a] = await Promise.all([startWorker('fleet-a'), startWorker('fleet-b')]);
    const ids = await Promise.all(
      Array.from({ length: SESSIONS }, async () => {
        return (await db.store.createSession({ id: randomUUID(), agent: 'demo' })).id;
      }),
    );
    const inputs = new Map<string, number[]>();
    await Promise.all(
      ids.map(async (id, i) => {
        inputs.set(id, [await send(id, '/sleep 2000'), await send(id, `next ${i}`)]);
      }),
    );
    // Kill the first worker while it has turns open.
    await waitFor('fleet-a to run turns', async () => {
      const open = await db.handle.db
        .select({ id: sessions.id })
        .from(sessions)
        .where(and(eq(sessions.owner, 'fleet-a'), isNotNull(sessions.turnId)));
      return open.length > 0;
    });
    await a.kill('SIGKILL');
    await startWorker('fleet-c');

    const logs = new Map<string, StoredEvent[]>();
    await waitFor(
      'every message answered',
      async () => {
        for (const id of ids) {
          if (logs.has(id)) continue;
          const events = await db.store.getEventsAfter(id, 0, 10_000);
          if (events.filter((e) => e.type === 'turn.completed').length < 2) return false;
          logs.set(id, events);
        }
        return true;
      },
      60_000,
      200,
    );
    await sleep(1000); // a duplicate answer, if any, has time to appear
    let lost = 0;
    for (const [i, id] of ids.entries()) {
      const events = await db.store.getEventsAfter(id, 0, 10_000);
      const started = events.filter((e) => e.type === 'turn.started');
      const completed = events.filter((e) => e.type === 'turn.completed');
      expect(started.map((e) => (e.data as { inputSeq: number }).inputSeq)).toEqual(inputs.get(id));
      expect(completed).toHaveLength(2);
      const reasons = completed.map((e) => (e.data as { stopReason: string }).stopReason);
      for (const reason of reasons) expect(['end_turn', 'worker_lost']).toContain(reason);
      lost += reasons.filter((r) => r === 'worker_lost').length;
      const replies = events
        .filter((e) => e.type === 'message.completed')
        .map((e) => (e.data as { text: string }).text);
      expect(replies.length).toBe(reasons.filter((r) => r === 'end_turn').length);
      if (reasons[1] === 'end_turn') expect(replies.at(-1)).toBe(`You said: next ${i}`);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, k) => k + 1));
    }
    process.stdout.write(`fleet: ${lost} turns closed as worker_lost after the SIGKILL\n`);
    expect(lost).toBeGreaterThan(0);
  });
});
