import { OfflineError } from './errors';
import type { OfflineInfo } from './offline-watch';
import { Outbox } from './outbox';
import type { OutboxMessage } from './outbox-types';
import { SessionStream } from './session-stream';
import type { StreamClose } from './stream-types';
import { FakeClock, flush } from './testing/fake-clock';
import { eventFrame, FakeServer, json, SESSION_ID, type FakeRequest } from './testing/fake-server';

const base = {
  baseUrl: ['http://a.test', 'http://b.test'],
  sessionId: SESSION_ID,
  random: () => 0.5,
};

function streamSetup(options: { giveUpAfterMs?: number; listen?: boolean } = {}) {
  const server = new FakeServer(() => 'network-error');
  const clock = new FakeClock();
  const stream = new SessionStream({ ...base, fetch: server.fetch, clock, ...options });
  const seen = {
    offline: [] as OfflineInfo[],
    online: [] as number[],
    closes: [] as StreamClose[],
  };
  if (options.listen !== false) stream.on('offline', (o) => seen.offline.push(o));
  stream.on('online', (o) => seen.online.push(o.offlineMs));
  stream.on('close', (c) => seen.closes.push(c));
  stream.on('error', () => undefined);
  return { server, clock, stream, seen };
}

function accepted(request: FakeRequest): Response {
  const { clientMessageId } = request.body as { clientMessageId: string };
  return json(202, { sessionId: SESSION_ID, seq: 2, clientMessageId, duplicate: false });
}

function outboxSetup(giveUpAfterMs?: number) {
  const server = new FakeServer(() => 'network-error');
  const clock = new FakeClock();
  let id = 0;
  const outbox = new Outbox({
    ...base,
    fetch: server.fetch,
    clock,
    giveUpAfterMs,
    createId: () => `m${++id}`,
  });
  const seen = {
    offline: [] as OfflineInfo[],
    online: [] as number[],
    failed: [] as OutboxMessage[],
  };
  outbox.on('offline', (o) => seen.offline.push(o));
  outbox.on('online', (o) => seen.online.push(o.offlineMs));
  outbox.on('failed', (m) => seen.failed.push(m));
  outbox.on('error', () => undefined);
  return { server, clock, outbox, seen };
}

describe('SessionStream without a reachable server', () => {
  it('says offline once, with the cause, after offlineAfterMs, and online when it connects', async () => {
    const { server, clock, stream, seen } = streamSetup();
    stream.start();
    await flush();
    await clock.advance(4900);
    expect(seen.offline).toEqual([]);
    await clock.advance(200);
    expect(seen.offline).toHaveLength(1);
    expect(seen.offline[0]).toMatchObject({
      offlineMs: 5000,
      url: expect.stringMatching(/\.test$/),
    });
    expect(seen.offline[0].attempts).toBeGreaterThan(1);
    expect(seen.offline[0].error.message).toMatch(/fetch failed/);
    await clock.advance(20_000);
    expect(seen.offline).toHaveLength(1);
    const body = server.sse();
    await clock.advance(30_000);
    body.push(eventFrame(1));
    await flush();
    expect(seen.online).toHaveLength(1);
    expect(seen.online[0]).toBeGreaterThan(25_000);
    expect(stream.closed).toBe(false);
    stream.close();
  });

  it('says offline while a connection attempt hangs without an answer', async () => {
    const { server, clock, stream, seen } = streamSetup();
    server.reply('hang');
    stream.start();
    await clock.advance(5000);
    expect(seen.offline.map((o) => [o.attempts, o.error.message])).toEqual([[0, 'no answer yet']]);
    stream.close();
  });

  it('gives up after giveUpAfterMs: closes with reason offline and an OfflineError, clears its timers', async () => {
    const { server, clock, stream, seen } = streamSetup({ giveUpAfterMs: 20_000 });
    const iterated = (async () => {
      for await (const item of stream) void item;
    })();
    const outcome = iterated.then(
      () => 'ended',
      (error: unknown) => error,
    );
    await clock.advance(20_000);
    expect(seen.closes).toHaveLength(1);
    const { reason, error } = seen.closes[0];
    expect(reason).toBe('offline');
    expect(error).toBeInstanceOf(OfflineError);
    expect(error).toMatchObject({ name: 'OfflineError', offlineMs: 20_000 });
    expect((error as OfflineError).cause.message).toMatch(/fetch failed/);
    expect(await outcome).toBe(error);
    const requests = server.requests.length;
    await clock.advance(60_000);
    expect(server.requests.length).toBe(requests);
    expect(clock.pendingCount).toBe(0);
  });

  it('writes one console warning per period when nobody listens to offline', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const { clock, stream } = streamSetup({ listen: false });
      stream.start();
      await clock.advance(30_000);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(
        /stream has had no answer from http:\/\/[ab]\.test for 5000 ms .*giveUpAfterMs/,
      );
      stream.close();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('Outbox without a reachable server', () => {
  it('says offline after offlineAfterMs while retrying, and online when a POST is answered', async () => {
    const { server, clock, outbox, seen } = outboxSetup();
    await outbox.send('one');
    await clock.advance(4000);
    expect(seen.offline).toEqual([]);
    await clock.advance(1000);
    expect(seen.offline).toHaveLength(1);
    expect(seen.offline[0].error.message).toMatch(/request failed/);
    server.reply(accepted);
    await clock.advance(15_000);
    expect(seen.online).toHaveLength(1);
    expect(outbox.pendingCount).toBe(0);
    expect(seen.failed).toEqual([]);
    outbox.close();
  });

  it('fails every pending message with OfflineError after giveUpAfterMs, then sends again', async () => {
    const { server, clock, outbox, seen } = outboxSetup(30_000);
    await outbox.send('one');
    await outbox.send('two');
    await clock.advance(29_000);
    expect(seen.failed).toEqual([]);
    await clock.advance(2000);
    expect(seen.failed.map((m) => [m.clientMessageId, m.error?.name])).toEqual([
      ['m1', 'OfflineError'],
      ['m2', 'OfflineError'],
    ]);
    expect(outbox.pendingCount).toBe(0);
    const posts = server.requests.length;
    await clock.advance(60_000);
    expect(server.requests.length).toBe(posts);

    server.reply(accepted);
    const third = await outbox.send('three');
    expect((await outbox.settled(third.clientMessageId)).state).toBe('accepted');
    outbox.close();
  });
});
