import type { IncomingMessage } from 'node:http';
import {
  Outbox,
  SessionStream,
  type OutboxMessage,
  type StoredEvent,
} from '../../libs/transport/src/client';
import { sleep, waitFor } from '../process';
import { ClientTestProxy } from './client-test-proxy';
import { useFaultCluster } from './fault-support';

const FAST = { baseMs: 200, maxMs: 1500, minMs: 50 };

async function createSession(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/** Collects what a stream delivers, and fails the test on any order violation. */
function record(stream: SessionStream) {
  const seen = { events: [] as StoredEvent[], opens: [] as string[], reconnects: 0 };
  stream.on('event', (e) => seen.events.push(e));
  stream.on('open', (o) => seen.opens.push(new URL(o.url).origin));
  stream.on('reconnect', () => (seen.reconnects += 1));
  stream.on('error', () => undefined);
  return seen;
}

describe('client SDK against two API nodes', () => {
  const suite = useFaultCluster({ apiNodes: 2, workers: 1 });

  afterEach(async () => {
    for (let i = 0; i < suite.cluster.apis.length; i++) {
      if (!suite.cluster.apis[i].running) await suite.cluster.restartApi(i);
    }
  });

  it.each([
    ['dies (SIGKILL)', 'SIGKILL'],
    ['drains (SIGTERM)', 'SIGTERM'],
  ] as const)(
    'resumes the stream on the other node when the serving node %s mid-turn, every event once',
    async (_what, signal) => {
      const [a, b] = suite.cluster.apiUrls;
      const sessionId = await createSession(b);
      const stream = new SessionStream({
        baseUrl: [a, b],
        sessionId,
        heartbeatMs: 1000,
        backoff: FAST,
      });
      const seen = record(stream);
      stream.start();
      await waitFor('the stream to open on node A', () => seen.opens.length === 1);
      expect(seen.opens[0]).toBe(a);

      const outbox = new Outbox({ baseUrl: [b, a], sessionId, backoff: FAST });
      await outbox.send('/stream 300 5');
      await waitFor(
        'the turn to be streaming',
        () => seen.events.filter((e) => e.type === 'message.delta').length >= 3,
      );
      expect(seen.events.some((e) => e.type === 'turn.completed')).toBe(false);
      await suite.cluster.killApi(0, signal);
      await waitFor(
        'the turn to complete',
        () => seen.events.some((e) => e.type === 'turn.completed'),
        60_000,
      );
      stream.close();
      outbox.close();

      const log = await suite.db.store.getEventsAfter(sessionId, 0, 10_000);
      expect(seen.events.map((e) => e.seq)).toEqual(log.map((e) => e.seq));
      expect(seen.events.map((e) => e.type)).toEqual(log.map((e) => e.type));
      expect(seen.opens.slice(1)).toContain(b);
      expect(seen.reconnects).toBeGreaterThanOrEqual(1);
      const text = seen.events.map((e) => (e.type === 'message.delta' ? e.data.text : '')).join('');
      expect(text).toBe(Array.from({ length: 300 }, (_, i) => `t${i} `).join(''));
      const completed = seen.events.find((e) => e.type === 'turn.completed');
      expect(completed?.data).toMatchObject({ stopReason: 'end_turn' });
    },
  );

  it('stores and answers 10 messages sent while their node is down for 3 s, once each and in order', async () => {
    const [a, b] = suite.cluster.apiUrls;
    const sessionId = await createSession(b);
    const stream = new SessionStream({ baseUrl: b, sessionId, heartbeatMs: 1000, backoff: FAST });
    const seen = record(stream);
    stream.start();
    const outbox = new Outbox({ baseUrl: a, sessionId, backoff: FAST, requestTimeoutMs: 3000 });
    outbox.attach(stream);
    const accepted: OutboxMessage[] = [];
    const processed: string[] = [];
    outbox.on('accepted', (m) => accepted.push(m));
    outbox.on('processed', (m) => processed.push(m.clientMessageId));
    outbox.on('error', () => undefined);

    await suite.cluster.killApi(0);
    const downAt = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      ids.push((await outbox.send(`message ${i}`)).clientMessageId);
      await sleep(150);
    }
    expect(accepted).toEqual([]);
    expect(outbox.messages.some((m) => m.attempts > 1)).toBe(true);
    await sleep(Math.max(0, 3000 - (Date.now() - downAt)));
    await suite.cluster.restartApi(0);
    await waitFor('all 10 to be accepted', () => accepted.length === 10, 30_000);
    await waitFor(
      'all 10 to be answered',
      () => seen.events.filter((e) => e.type === 'turn.completed').length === 10,
      60_000,
    );
    stream.close();
    outbox.close();

    expect(accepted.map((m) => m.clientMessageId)).toEqual(ids);
    const log = await suite.db.store.getEventsAfter(sessionId, 0, 10_000);
    const users = log.filter((e) => e.type === 'message.user');
    expect(users.map((e) => e.data)).toEqual(
      ids.map((clientMessageId, i) => ({ clientMessageId, content: `message ${i}` })),
    );
    expect(accepted.map((m) => m.seq)).toEqual(users.map((e) => e.seq));
    const started = log.filter((e) => e.type === 'turn.started');
    expect(started.map((e) => e.data.inputSeq)).toEqual(users.map((e) => e.seq));
    const replies = log.filter((e) => e.type === 'message.completed').map((e) => e.data.text);
    expect(replies).toEqual(ids.map((_, i) => `You said: message ${i}`));
    expect(processed).toEqual(ids);
    expect(seen.events.map((e) => e.seq)).toEqual(log.map((e) => e.seq));
  });

  it('stores a message once when the answer to its POST is lost and the retry finds it stored', async () => {
    const [, b] = suite.cluster.apiUrls;
    const sessionId = await createSession(b);
    let lost = 0;
    const proxy = new ClientTestProxy(b, {
      loseResponse: (req: IncomingMessage) =>
        req.method === 'POST' && req.url!.endsWith('/messages') && lost++ < 2,
    });
    const front = await proxy.listen();
    try {
      const outbox = new Outbox({ baseUrl: front, sessionId, backoff: FAST });
      const first = await outbox.send('lost answer');
      const second = await outbox.send('found');
      const settled = await Promise.all([
        outbox.settled(first.clientMessageId),
        outbox.settled(second.clientMessageId),
      ]);
      outbox.close();
      expect(settled.map((m) => [m.state, m.duplicate])).toEqual([
        ['accepted', true],
        ['accepted', false],
      ]);
      expect(proxy.forwarded.filter((r) => r.startsWith('POST'))).toHaveLength(4);
      const log = await suite.db.store.getEventsAfter(sessionId, 0, 10_000);
      const users = log.filter((e) => e.type === 'message.user');
      expect(users.map((e) => e.data)).toEqual([
        { clientMessageId: first.clientMessageId, content: 'lost answer' },
        { clientMessageId: second.clientMessageId, content: 'found' },
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('replaces a silent connection after twice the heartbeat interval and misses nothing', async () => {
    const [, b] = suite.cluster.apiUrls;
    const sessionId = await createSession(b);
    const proxy = new ClientTestProxy(b);
    const front = await proxy.listen();
    try {
      const stream = new SessionStream({
        baseUrl: front,
        sessionId,
        heartbeatMs: 1000,
        backoff: FAST,
      });
      const seen = record(stream);
      const timeouts: boolean[] = [];
      stream.on('reconnect', (r) =>
        timeouts.push((r.error as { timedOut?: boolean }).timedOut === true),
      );
      stream.start();
      const outbox = new Outbox({ baseUrl: b, sessionId, backoff: FAST });
      const completed = () => seen.events.filter((e) => e.type === 'turn.completed').length;
      await outbox.send('before the silence');
      await waitFor('the first reply', () => completed() === 1, 30_000);
      expect(proxy.freezeOpenResponses()).toBe(1);
      await outbox.send('during the silence');
      await waitFor('the second reply after a reconnect', () => completed() === 2, 30_000);
      stream.close();
      outbox.close();
      expect(timeouts).toEqual([true]);
      expect(seen.opens).toHaveLength(2);
      const log = await suite.db.store.getEventsAfter(sessionId, 0, 10_000);
      expect(seen.events.map((e) => e.seq)).toEqual(
        log.map((e) => e.seq).slice(0, seen.events.length),
      );
      expect(seen.events.filter((e) => e.type === 'message.completed').map((e) => e.data)).toEqual([
        expect.objectContaining({ text: 'You said: before the silence' }),
        expect.objectContaining({ text: 'You said: during the silence' }),
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('interrupts and ends a session, then the stream stops with end and a resume gets 204', async () => {
    const [a, b] = suite.cluster.apiUrls;
    const sessionId = await createSession(b);
    const stream = new SessionStream({
      baseUrl: [b, a],
      sessionId,
      heartbeatMs: 1000,
      backoff: FAST,
    });
    const seen = record(stream);
    const closes: string[] = [];
    stream.on('close', (c) => closes.push(c.reason));
    stream.start();
    const outbox = new Outbox({ baseUrl: [b, a], sessionId, backoff: FAST });
    await outbox.send('/sleep 20000');
    await waitFor(
      'the turn to start',
      () => seen.events.some((e) => e.type === 'turn.started'),
      30_000,
    );
    const started = seen.events.find((e) => e.type === 'turn.started')!;
    const interrupted = await outbox.interrupt();
    expect(interrupted).toEqual({ ok: true, value: { sessionId, turnId: started.data.turnId } });
    await waitFor(
      'the turn to stop',
      () => seen.events.some((e) => e.type === 'turn.completed'),
      30_000,
    );
    expect(seen.events.find((e) => e.type === 'turn.completed')?.data).toMatchObject({
      stopReason: 'interrupted',
    });
    const ended = await outbox.end();
    expect(ended).toMatchObject({ ok: true, value: { id: sessionId, state: 'ENDED' } });
    await waitFor('the stream to end', () => closes.length === 1, 30_000);
    outbox.close();
    expect(closes).toEqual(['ended']);
    const log = await suite.db.store.getEventsAfter(sessionId, 0, 10_000);
    expect(seen.events.map((e) => e.seq)).toEqual(log.map((e) => e.seq));
    expect(stream.status.state).toBe('ENDED');

    const again = new SessionStream({ baseUrl: b, sessionId, after: stream.lastSeq });
    const reason = await new Promise<string>((done) => {
      again.on('close', (c) => done(c.reason));
      again.start();
    });
    expect(reason).toBe('no_content');
    const refused = await outbox.interrupt();
    expect(refused).toMatchObject({ ok: false, error: { status: 409, code: 'session_ended' } });
  });
});
