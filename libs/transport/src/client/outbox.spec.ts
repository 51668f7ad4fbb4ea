import { OutboxFullError } from './errors';
import { Outbox } from './outbox';
import { MemoryOutboxStorage, type StoredOutboxMessage } from './outbox-storage';
import type { OutboxMessage, OutboxOptions } from './outbox-types';
import { FakeClock, flush } from './testing/fake-clock';
import {
  FakeServer,
  json,
  problem,
  SESSION_ID,
  storedEvent,
  type FakeRequest,
} from './testing/fake-server';

let seqCounter = 0;
/** The server's answer to a new message: 202 with the next seq. */
function accepted(request: FakeRequest, duplicate = false): Response {
  const body = request.body as { clientMessageId: string };
  seqCounter += 1;
  return json(duplicate ? 200 : 202, {
    sessionId: SESSION_ID,
    seq: seqCounter,
    clientMessageId: body.clientMessageId,
    duplicate,
  });
}

function setup(
  options: Partial<OutboxOptions> = {},
  fallback?: (r: FakeRequest) => Response | 'network-error',
) {
  const server = new FakeServer(fallback ?? ((r) => accepted(r)));
  const clock = new FakeClock();
  let id = 0;
  const outbox = new Outbox({
    baseUrl: 'http://api.test',
    sessionId: SESSION_ID,
    token: 'key-1',
    fetch: server.fetch,
    clock,
    random: () => 0.5,
    createId: () => `m${++id}`,
    ...options,
  });
  const log: string[] = [];
  const failed: OutboxMessage[] = [];
  outbox.on('accepted', (m) => log.push(`${m.clientMessageId}@${m.seq}`));
  outbox.on('failed', (m) => failed.push(m));
  outbox.on('error', () => undefined);
  outbox.on('offline', () => undefined);
  const posted = () =>
    server.requests
      .filter((r) => r.url.endsWith('/messages'))
      .map((r) => (r.body as { clientMessageId: string }).clientMessageId);
  return { server, clock, outbox, log, failed, posted };
}

/** Runs retries until the outbox has nothing pending (or gives up after `rounds` timers). */
async function settle(clock: FakeClock, outbox: Outbox, rounds = 50): Promise<void> {
  for (let i = 0; i < rounds && outbox.pendingCount > 0; i++) {
    await flush();
    if (clock.pendingCount > 0) await clock.fireNext();
  }
  await flush();
}

beforeEach(() => (seqCounter = 0));

describe(Outbox.name, () => {
  it('posts in send order, one at a time, with the same clientMessageId on every retry', async () => {
    const { server, clock, outbox, log, posted } = setup();
    server.reply('network-error', problem(503, 'unavailable'), problem(500, 'internal_error'));
    server.reply(
      (r) => accepted(r),
      problem(502, 'internal_error'),
      (r) => accepted(r),
    );
    let inFlight = 0;
    let maxInFlight = 0;
    outbox.on('change', (m) => {
      if (m.state === 'sending') maxInFlight = Math.max(maxInFlight, ++inFlight);
      else if (inFlight > 0 && m.state !== 'queued') inFlight--;
    });
    for (const text of ['a', 'b', 'c']) await outbox.send(text);
    await settle(clock, outbox);
    expect(posted()).toEqual(['m1', 'm1', 'm1', 'm1', 'm2', 'm2', 'm3']);
    expect(server.requests[0].headers.authorization).toBe('Bearer key-1');
    expect(server.requests.map((r) => (r.body as { content: string }).content)).toEqual([
      'a',
      'a',
      'a',
      'a',
      'b',
      'b',
      'c',
    ]);
    expect(log).toEqual(['m1@1', 'm2@2', 'm3@3']);
    expect(maxInFlight).toBe(1);
  });

  it('settled() answers at once for a message that already settled', async () => {
    const { clock, outbox } = setup();
    const sent = await outbox.send('x');
    await settle(clock, outbox);
    await expect(outbox.settled(sent.clientMessageId)).resolves.toMatchObject({
      state: 'accepted',
      seq: 1,
    });
  });

  it('counts a 200 duplicate as accepted', async () => {
    const { server, clock, outbox, log } = setup();
    server.reply('network-error', (r) => accepted(r, true));
    const sent = await outbox.send('hello');
    const result = outbox.settled(sent.clientMessageId);
    await settle(clock, outbox);
    expect(await result).toMatchObject({ state: 'accepted', seq: 1, duplicate: true, attempts: 2 });
    expect(log).toEqual(['m1@1']);
  });

  it.each([
    [400, 'validation_failed'],
    [409, 'idempotency_conflict'],
    [409, 'session_ended'],
    [413, 'payload_too_large'],
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [404, 'session_not_found'],
  ])(
    'fails a message on %i %s with the server problem and lets the next proceed',
    async (status, code) => {
      const { server, clock, outbox, log, failed, posted } = setup();
      server.reply(problem(status, code));
      await outbox.send('first');
      await outbox.send('second');
      await settle(clock, outbox);
      expect(failed.map((m) => [m.clientMessageId, m.state])).toEqual([['m1', 'failed']]);
      expect(failed[0].error).toMatchObject({ status, code });
      expect(log).toEqual(['m2@1']);
      expect(posted()).toEqual(['m1', 'm2']);
    },
  );

  it('retries a 404 that is not about the session (a node or proxy without the route)', async () => {
    const { server, clock, outbox, log } = setup();
    server.reply(json(404, 'no route'), problem(404, 'not_found'));
    await outbox.send('x');
    await settle(clock, outbox);
    expect(log).toEqual(['m1@1']);
  });

  it('retries a 2xx answer that is not a MessageAccepted (an interposed page)', async () => {
    const { server, clock, outbox, log, failed, posted } = setup();
    server.reply(json(200, '<html>maintenance</html>'));
    await outbox.send('x');
    await settle(clock, outbox);
    expect(posted()).toEqual(['m1', 'm1']);
    expect(log).toEqual(['m1@1']);
    expect(failed).toEqual([]);
  });

  it('waits at least Retry-After before retrying a 429 or 503', async () => {
    const { server, clock, outbox, posted } = setup({ random: () => 0 });
    server.reply(problem(429, 'rate_limited', { 'retry-after': '7' }));
    await outbox.send('x');
    await flush();
    expect(posted()).toHaveLength(1);
    await clock.advance(6999);
    expect(posted()).toHaveLength(1);
    await clock.advance(1);
    expect(posted()).toHaveLength(2);
  });

  it('retries a request that times out, with the same id', async () => {
    const { server, clock, outbox, log, posted } = setup({ requestTimeoutMs: 2000 });
    server.reply('hang');
    await outbox.send('x');
    await flush();
    await clock.advance(2000);
    await settle(clock, outbox);
    expect(posted()).toEqual(['m1', 'm1']);
    expect(log).toEqual(['m1@1']);
  });

  it('keeps the cap while messages are retried after repeated failures', async () => {
    const storage = new MemoryOutboxStorage();
    let outage = true;
    const { clock, outbox, log, posted } = setup({ maxPending: 3, storage }, (r) =>
      outage ? 'network-error' : accepted(r),
    );
    let maxSeen = 0;
    outbox.on('change', () => (maxSeen = Math.max(maxSeen, outbox.pendingCount)));
    for (const text of ['a', 'b', 'c']) await outbox.send(text);
    for (let round = 0; round < 20; round++) {
      await clock.fireNext();
      await expect(outbox.send(`extra-${round}`)).rejects.toBeInstanceOf(OutboxFullError);
      expect(outbox.pendingCount).toBe(3);
      expect(storage.load(SESSION_ID)).toHaveLength(3);
    }
    expect(posted().length).toBeGreaterThanOrEqual(20);
    expect(new Set(posted())).toEqual(new Set(['m1']));
    outage = false;
    await settle(clock, outbox);
    expect(log).toEqual(['m1@1', 'm2@2', 'm3@3']);
    expect(maxSeen).toBe(3);
    await outbox.send('after');
    await settle(clock, outbox);
    expect(log).toEqual(['m1@1', 'm2@2', 'm3@3', 'm4@4']);
    expect(storage.load(SESSION_ID)).toEqual([]);
  });

  it('refuses a send with OutboxFullError when full and frees a slot once one is accepted', async () => {
    const { server, clock, outbox } = setup({ maxPending: 2 });
    server.reply('hang');
    await outbox.send('a');
    await outbox.send('b');
    const refusal = outbox.send('c');
    await expect(refusal).rejects.toBeInstanceOf(OutboxFullError);
    await expect(refusal).rejects.toMatchObject({ maxPending: 2 });
    expect(outbox.messages.map((m) => m.content)).toEqual(['a', 'b']);
    await clock.advance(10_000); // the hanging POST times out and is retried
    await settle(clock, outbox);
    await expect(outbox.send('c')).resolves.toMatchObject({ state: 'queued' });
  });

  it('restores stored messages first, in order, up to the cap, and reports the overflow', async () => {
    const storage = new MemoryOutboxStorage();
    const stored: StoredOutboxMessage[] = ['s1', 's2', 's3', 's4', 's1'].map((id, i) => ({
      clientMessageId: id,
      content: `stored ${i}`,
      queuedAt: i,
    }));
    storage.save(SESSION_ID, stored);
    const { clock, outbox, log, failed, posted } = setup({ maxPending: 2, storage });
    const restore = await outbox.ready;
    expect(restore.restored).toBe(2);
    expect(restore.overflow.map((m) => m.clientMessageId)).toEqual(['s3', 's4']);
    expect(restore.overflow[0].error).toBeInstanceOf(OutboxFullError);
    expect(failed.map((m) => m.clientMessageId)).toEqual(['s3', 's4']);
    expect(outbox.pendingCount).toBeLessThanOrEqual(2);
    await settle(clock, outbox);
    await outbox.send('new');
    await settle(clock, outbox);
    expect(posted()).toEqual(['s1', 's2', 'm1']);
    expect(log).toEqual(['s1@1', 's2@2', 'm1@3']);
  });

  it('sends messages left by a closed outbox again with the same ids', async () => {
    const storage = new MemoryOutboxStorage();
    const first = setup({ storage });
    first.server.reply('hang');
    await first.outbox.send('a');
    await first.outbox.send('b');
    first.outbox.close();
    await flush();
    expect(storage.load(SESSION_ID).map((m) => m.clientMessageId)).toEqual(['m1', 'm2']);
    const second = setup({ storage, createId: () => 'fresh' });
    await second.outbox.ready;
    await settle(second.clock, second.outbox);
    expect(second.posted()).toEqual(['m1', 'm2']);
    expect(second.log).toEqual(['m1@1', 'm2@2']);
  });

  it('marks a message processed when its turn.started arrives, before or after the POST answer', async () => {
    const { server, clock, outbox } = setup();
    const processed: string[] = [];
    outbox.on('processed', (m) => processed.push(m.clientMessageId));
    const listeners: ((e: ReturnType<typeof storedEvent>) => void)[] = [];
    const detach = outbox.attach({ on: (_name, l) => (listeners.push(l), () => listeners.pop()) });
    server.reply(
      (r) => accepted(r),
      (r) => {
        // the stream shows turn.started for seq 2 before this POST's answer arrives
        listeners.forEach((l) =>
          l(storedEvent(3, { type: 'turn.started', data: { turnId: 'u', inputSeq: 2 } })),
        );
        return accepted(r);
      },
    );
    await outbox.send('a');
    await outbox.send('b');
    await settle(clock, outbox);
    expect(processed).toEqual(['m2']);
    listeners.forEach((l) =>
      l(storedEvent(4, { type: 'turn.started', data: { turnId: 't', inputSeq: 1 } })),
    );
    expect(processed).toEqual(['m2', 'm1']);
    detach();
    expect(listeners).toHaveLength(0);
  });

  it('sends interrupt and end once, outside the queue, without retrying', async () => {
    const { server, outbox } = setup();
    server.reply(problem(503, 'unavailable'), json(202, { sessionId: SESSION_ID, turnId: null }));
    const failedInterrupt = await outbox.interrupt();
    expect(failedInterrupt).toMatchObject({ ok: false, error: { status: 503 } });
    const ended = await outbox.end();
    expect(ended).toMatchObject({ ok: true });
    expect(server.requests.map((r) => new URL(r.url).pathname)).toEqual([
      `/v1/sessions/${SESSION_ID}/interrupt`,
      `/v1/sessions/${SESSION_ID}/end`,
    ]);
    expect(outbox.pendingCount).toBe(0);
  });
});
