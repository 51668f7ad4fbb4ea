import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { SESSION_STATES, TRANSITIONS, type SessionState } from '@sessionwire/transport/protocol';
import { createTestDatabase, type TestDatabase } from '../../../test/database';
import { connectPostgres } from './database';
import {
  IdempotencyConflictError,
  IllegalTransitionError,
  SessionEndedError,
  SessionNotFoundError,
} from './errors';
import { EventStore } from './event-store';
import { sessions } from './schema';
import { eq } from 'drizzle-orm';

describe(EventStore.name, () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = db.store;
  });
  afterAll(() => db.drop());

  const newSession = () => store.createSession({ id: randomUUID(), agent: 'demo' });
  const delta = (turnId: string, text: string) =>
    ({ type: 'message.delta', data: { turnId, text } }) as const;

  it('creates a session at seq 1 with its CREATED event', async () => {
    const session = await newSession();
    expect(session).toMatchObject({ state: 'CREATED', activity: 'idle', headSeq: 1 });
    const events = await store.getEventsAfter(session.id, 0, 10);
    expect(events).toEqual([
      expect.objectContaining({
        seq: 1,
        type: 'session.state',
        data: { from: null, to: 'CREATED', reason: 'created' },
      }),
    ]);
  });

  it('assigns gap-free seqs to 50 concurrent appenders on several connections', async () => {
    const session = await newSession();
    // Five independent pools: appenders really race on different connections.
    const handles = Array.from({ length: 5 }, () =>
      connectPostgres({ url: db.url, applicationName: 'sessionwire-test', max: 10 }),
    );
    try {
      const stores = handles.map((h) => new EventStore(h.db));
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          stores[i % stores.length].append(session.id, [delta('t', `a${i}`), delta('t', `b${i}`)]),
        ),
      );
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
    const events = await store.getEventsAfter(session.id, 0, 1000);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    expect(await store.getHeadSeq(session.id)).toBe(101);
    // Each append's two events are adjacent: a batch is never interleaved with another.
    for (let seq = 2; seq <= 101; seq += 2) {
      const a = events[seq - 1].data as { text: string };
      const b = events[seq].data as { text: string };
      expect(b.text).toBe(`b${a.text.slice(1)}`);
    }
  });

  it('does not block appenders of one session on a locked other session', async () => {
    const [blocked, free] = [await newSession(), await newSession()];
    const pool = new Pool({ connectionString: db.url });
    const holder = await pool.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from sessions where id = $1 for update', [blocked.id]);
      const started = store.append(blocked.id, [delta('t', 'waits')]);
      await expect(store.append(free.id, [delta('t', 'goes')])).resolves.toHaveLength(1);
      await holder.query('commit');
      await expect(started).resolves.toHaveLength(1);
    } finally {
      holder.release();
      await pool.end();
    }
  });

  it('never lets a reader see seq N+1 before seq N during concurrent appends', async () => {
    const session = await newSession();
    let done = false;
    const violations: string[] = [];
    const reader = (async () => {
      while (!done) {
        const events = await store.getEventsAfter(session.id, 0, 10_000);
        events.forEach((e, i) => {
          if (e.seq !== i + 1) violations.push(`saw ${e.seq} at position ${i + 1}`);
        });
      }
    })();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => store.append(session.id, [delta('t', String(i))])),
    );
    done = true;
    await reader;
    expect(violations).toEqual([]);
  });

  it('stores one event for 20 concurrent retries of one clientMessageId', async () => {
    const session = await newSession();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        store.appendUserMessage(session.id, { clientMessageId: 'm-1', content: 'hello' }),
      ),
    );
    expect(new Set(results.map((r) => r.event.seq))).toEqual(new Set([2]));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const events = await store.getEventsAfter(session.id, 0, 100);
    expect(events.filter((e) => e.type === 'message.user')).toHaveLength(1);
    await expect(
      store.appendUserMessage(session.id, { clientMessageId: 'm-1', content: 'other' }),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
    expect(await store.getHeadSeq(session.id)).toBe(2);
    const row = await store.requireSession(session.id);
    expect(row).toMatchObject({ activity: 'running', lastInputSeq: 2, processedSeq: 0 });
  });

  it('answers a retried message after the session ended, but refuses a new one', async () => {
    const session = await newSession();
    await store.appendUserMessage(session.id, { clientMessageId: 'x', content: 'hi' });
    await db.leases.end(session.id);
    await expect(
      store.appendUserMessage(session.id, { clientMessageId: 'x', content: 'hi' }),
    ).resolves.toMatchObject({ duplicate: true, event: { seq: 2 } });
    await expect(
      store.appendUserMessage(session.id, { clientMessageId: 'y', content: 'hi' }),
    ).rejects.toBeInstanceOf(SessionEndedError);
  });

  it('returns appended events as stored, and refuses unknown or ended sessions by name', async () => {
    const session = await newSession();
    const appended = await store.append(session.id, [
      delta('t', 'a'),
      { type: 'tool.call', data: { turnId: 't', callId: 'c', name: 'x', input: { q: [1] } } },
    ]);
    expect(appended).toEqual(await store.getEventsAfter(session.id, 1, 10));
    expect(appended.map((e) => [e.seq, e.type])).toEqual([
      [2, 'message.delta'],
      [3, 'tool.call'],
    ]);
    await expect(store.append(randomUUID(), [delta('t', 'x')])).rejects.toBeInstanceOf(
      SessionNotFoundError,
    );
    await db.leases.end(session.id);
    await expect(store.append(session.id, [delta('t', 'x')])).rejects.toBeInstanceOf(
      SessionEndedError,
    );
    expect(await store.getHeadSeq(session.id)).toBe(4);
  });

  describe('transitions', () => {
    /** Puts a fresh session into `state` by writing the row directly (setup only). */
    async function sessionIn(state: SessionState) {
      const session = await newSession();
      await db.handle.db.update(sessions).set({ state }).where(eq(sessions.id, session.id));
      return session.id;
    }

    const pairs = SESSION_STATES.flatMap((from) => SESSION_STATES.map((to) => [from, to] as const));
    const legal = pairs.filter(([from, to]) => TRANSITIONS[from].includes(to));
    const illegal = pairs.filter(([from, to]) => !TRANSITIONS[from].includes(to));

    it.each(legal)('%s -> %s appends exactly one session.state event', async (from, to) => {
      const id = await sessionIn(from);
      const event = await store.transition(id, from, to, 'test');
      expect(event).toMatchObject({ seq: 2, type: 'session.state', data: { from, to } });
      expect(await store.getHeadSeq(id)).toBe(2);
      expect((await store.requireSession(id)).state).toBe(to);
    });

    it.each(illegal)('%s -> %s is refused and appends nothing', async (from, to) => {
      const id = await sessionIn(from);
      await expect(store.transition(id, from, to, 'test')).rejects.toBeInstanceOf(
        IllegalTransitionError,
      );
      expect(await store.getHeadSeq(id)).toBe(1);
      expect((await store.requireSession(id)).state).toBe(from);
    });

    it('refuses a transition whose `from` is not the current state', async () => {
      const id = await sessionIn('ACTIVE');
      await expect(store.transition(id, 'CREATED', 'STARTING', 'test')).rejects.toBeInstanceOf(
        IllegalTransitionError,
      );
      expect(await store.getHeadSeq(id)).toBe(1);
    });
  });

  describe('getHeadSeq', () => {
    it('is 0 for an unknown session', async () => {
      expect(await store.getHeadSeq(randomUUID())).toBe(0);
    });
    it('is 1 for a session with its single event', async () => {
      expect(await store.getHeadSeq((await newSession()).id)).toBe(1);
    });
    it('is the max seq for many events', async () => {
      const session = await newSession();
      for (let i = 0; i < 5; i++)
        await store.append(session.id, [delta('t', 'x'), delta('t', 'y')]);
      expect(await store.getHeadSeq(session.id)).toBe(11);
    });
  });

  it('reads heads, states and activities of many sessions in one query', async () => {
    const a = await newSession();
    const b = await newSession();
    await store.append(b.id, [delta('t', 'x')]);
    const heads = await store.getHeads([a.id, b.id, randomUUID()]);
    expect(heads.get(a.id)).toEqual({ headSeq: 1, state: 'CREATED', activity: 'idle' });
    expect(heads.get(b.id)).toEqual({ headSeq: 2, state: 'CREATED', activity: 'idle' });
    expect(heads.size).toBe(2);
  });

  it('lists sessions newest first in keyset pages without skip or repeat', async () => {
    const { v7 } = await import('uuid');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = v7();
      ids.push(id);
      await store.createSession({ id, agent: 'demo', metadata: { i } });
    }
    const seen: string[] = [];
    let beforeId: string | undefined;
    for (;;) {
      const page = await store.listSessions({ limit: 3, beforeId, state: 'CREATED' });
      seen.push(...page.map((s) => s.id));
      if (page.length < 3) break;
      beforeId = page[page.length - 1].id;
    }
    const mine = seen.filter((id) => ids.includes(id));
    expect(mine).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('pages backwards with getEventsBefore, ascending', async () => {
    const session = await newSession();
    for (let i = 0; i < 9; i++) await store.append(session.id, [delta('t', String(i))]);
    const page = await store.getEventsBefore(session.id, 8, 3);
    expect(page.map((e) => e.seq)).toEqual([5, 6, 7]);
  });

  it('keeps activity and the processed cursor with the turn', async () => {
    const session = await newSession();
    const { event } = await store.appendUserMessage(session.id, {
      clientMessageId: 'c',
      content: 'hi',
    });
    const turnId = randomUUID();
    await store.append(session.id, [
      { type: 'turn.started', data: { turnId, inputSeq: event.seq } },
    ]);
    expect(await store.requireSession(session.id)).toMatchObject({ turnId, activity: 'running' });
    await store.append(session.id, [
      { type: 'message.completed', data: { turnId, text: 'ok' } },
      { type: 'turn.completed', data: { turnId, stopReason: 'end_turn' } },
    ]);
    expect(await store.requireSession(session.id)).toMatchObject({
      turnId: null,
      activity: 'idle',
      processedSeq: event.seq,
    });
  });
});
