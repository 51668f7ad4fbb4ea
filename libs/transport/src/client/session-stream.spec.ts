import type { StoredEvent } from '../protocol';
import { SessionStream } from './session-stream';
import type { SessionStreamOptions, StreamClose, StreamReconnect } from './stream-types';
import { FakeClock, flush } from './testing/fake-clock';
import {
  controlFrame,
  eventFrame,
  FakeServer,
  json,
  problem,
  SESSION_ID,
} from './testing/fake-server';

function setup(options: Partial<SessionStreamOptions> = {}) {
  const server = new FakeServer();
  const clock = new FakeClock();
  const stream = new SessionStream({
    baseUrl: 'http://api.test',
    sessionId: SESSION_ID,
    token: 'key-1',
    fetch: server.fetch,
    clock,
    random: () => 0.5,
    ...options,
  });
  const seen = {
    events: [] as number[],
    reconnects: [] as StreamReconnect[],
    closes: [] as StreamClose[],
  };
  stream.on('event', (e: StoredEvent) => seen.events.push(e.seq));
  stream.on('reconnect', (r) => seen.reconnects.push(r));
  stream.on('close', (c) => seen.closes.push(c));
  stream.on('error', () => undefined);
  stream.on('offline', () => undefined);
  return { server, clock, stream, seen };
}

describe(SessionStream.name, () => {
  it('delivers events in order and resumes with Last-Event-ID, dropping duplicates', async () => {
    const { server, clock, stream, seen } = setup();
    const first = server.sse();
    stream.start();
    await flush();
    expect(server.requests[0].url).toBe(`http://api.test/v1/sessions/${SESSION_ID}/stream`);
    expect(server.requests[0].headers.authorization).toBe('Bearer key-1');
    expect(server.requests[0].headers['last-event-id']).toBeUndefined();
    first.push(eventFrame(1) + eventFrame(2) + eventFrame(3));
    first.close();
    await flush();
    const second = server.sse();
    await clock.fireNext();
    expect(server.requests[1].headers['last-event-id']).toBe('3');
    second.push(eventFrame(2) + eventFrame(3) + eventFrame(4));
    await flush();
    expect(seen.events).toEqual([1, 2, 3, 4]);
    expect(stream.duplicatesDropped).toBe(2);
    expect(stream.lastSeq).toBe(4);
    stream.close();
  });

  it('parses frames split across chunks at any byte', async () => {
    const { server, stream, seen } = setup();
    const body = server.sse();
    stream.start();
    await flush();
    const text =
      eventFrame(1) + eventFrame(2, { type: 'message.delta', data: { turnId: 't', text: 'é✓' } });
    for (const ch of text) body.push(ch);
    await flush();
    expect(seen.events).toEqual([1, 2]);
    stream.close();
  });

  it('backs off exponentially with jitter and never in a tight loop on instant clean closes', async () => {
    const randoms = [0.9, 0.1, 0.9, 0.9, 0.9, 0.9];
    const { server, clock, stream, seen } = setup({
      random: () => randoms.shift() ?? 0.9,
      offlineAfterMs: 3_600_000, // its timer would be the next one fired here
    });
    for (let i = 0; i < 6; i++) server.sse().close();
    stream.start();
    for (let i = 0; i < 5; i++) {
      await flush();
      await clock.fireNext();
    }
    const delays = seen.reconnects.map((r) => r.delayMs);
    // windows 500, 1000, … 16000 above the 100 ms floor; random picks inside each window
    expect(delays).toEqual([
      100 + 0.9 * 400,
      100 + 0.1 * 900,
      100 + 0.9 * 1900,
      100 + 0.9 * 3900,
      100 + 0.9 * 7900,
      100 + 0.9 * 15900,
    ]);
    expect(seen.reconnects.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(server.requests).toHaveLength(6);
    stream.close();
  });

  it('starts the backoff over after a connection that delivered new events', async () => {
    const { server, clock, stream, seen } = setup({ random: () => 1 });
    for (let i = 0; i < 3; i++) server.sse().close();
    const progress = server.sse();
    stream.start();
    for (let i = 0; i < 3; i++) {
      await flush();
      await clock.fireNext();
    }
    progress.push(eventFrame(1));
    progress.close();
    await flush();
    expect(seen.reconnects.map((r) => r.delayMs)).toEqual([500, 1000, 2000, 500]);
    stream.close();
  });

  it("honours the server's retry: as the floor of the delay", async () => {
    const { server, clock, stream, seen } = setup({ random: () => 0 });
    const body = server.sse();
    stream.start();
    await flush();
    body.push('retry: 5000\n\n' + eventFrame(1));
    body.close();
    await flush();
    expect(seen.reconnects[0].delayMs).toBe(5000);
    server.sse();
    await clock.advance(4999);
    expect(server.requests).toHaveLength(1);
    await clock.advance(1);
    expect(server.requests).toHaveLength(2);
    stream.close();
  });

  it('keeps its cursor on a gap below it, so no event comes twice', async () => {
    const { server, stream, seen } = setup();
    const body = server.sse();
    stream.start();
    await flush();
    const gap = {
      sessionId: SESSION_ID,
      reason: 'replay_gap_exceeded' as const,
      fromSeq: 1,
      toSeq: 2,
      headSeq: 4,
      state: 'ACTIVE' as const,
      activity: 'running' as const,
      historyUrl: `/v1/sessions/${SESSION_ID}/events?after=0&limit=1000`,
    };
    body.push(
      eventFrame(3) + eventFrame(4) + controlFrame({ event: 'gap', data: gap }) + eventFrame(4),
    );
    await flush();
    expect(seen.events).toEqual([3, 4]);
    expect(stream.lastSeq).toBe(4);
    stream.close();
  });

  it('retries a 429 rate_limited no sooner than its Retry-After', async () => {
    const { server, clock, stream, seen } = setup({ random: () => 0 });
    server.reply(problem(429, 'rate_limited', { 'retry-after': '7' }));
    stream.start();
    await flush();
    expect(seen.reconnects[0].delayMs).toBe(7000);
    server.sse();
    await clock.advance(6999);
    expect(server.requests).toHaveLength(1);
    await clock.advance(1);
    expect(server.requests).toHaveLength(2);
    expect(stream.closed).toBe(false);
    stream.close();
  });

  it('retries a 503 no sooner than its Retry-After and a network error with backoff', async () => {
    const { server, clock, stream, seen } = setup({ random: () => 0 });
    server.reply(problem(503, 'unavailable', { 'retry-after': '3' }), 'network-error');
    stream.start();
    await flush();
    expect(seen.reconnects[0].delayMs).toBe(3000);
    await clock.fireNext();
    expect(seen.reconnects[1].delayMs).toBe(100);
    expect(stream.closed).toBe(false);
    stream.close();
  });

  it.each([
    ['an end frame', 'ended', () => null],
    ['204', 'no_content', () => json(204, null)],
    ['401', 'unauthorized', () => problem(401, 'unauthorized')],
    ['403', 'forbidden', () => problem(403, 'forbidden')],
    ['404', 'not_found', () => problem(404, 'session_not_found')],
    ['400', 'rejected', () => problem(400, 'validation_failed')],
  ])('stops for good after %s', async (_what, reason, reply) => {
    const { server, clock, stream, seen } = setup();
    const response = reply();
    if (response) server.reply(response);
    else {
      const body = server.sse();
      body.push(
        eventFrame(1) + controlFrame({ event: 'end', data: { sessionId: SESSION_ID, headSeq: 1 } }),
      );
    }
    stream.start();
    await flush();
    await clock.advance(600_000);
    expect(server.requests).toHaveLength(1);
    expect(seen.closes).toHaveLength(1);
    expect(seen.closes[0].reason).toBe(reason);
    if (reason === 'unauthorized') expect(seen.closes[0].problem?.code).toBe('unauthorized');
    expect(clock.pendingCount).toBe(0);
  });

  it('reconnects when no byte arrives for twice the heartbeat interval', async () => {
    const { server, clock, stream, seen } = setup({ heartbeatMs: 1000 });
    const body = server.sse();
    stream.start();
    await flush();
    body.push(
      eventFrame(1) + controlFrame({ event: 'live', data: { sessionId: SESSION_ID, headSeq: 1 } }),
    );
    await flush();
    for (let i = 0; i < 5; i++) {
      await clock.advance(1000);
      body.push(
        controlFrame({
          event: 'heartbeat',
          data: { headSeq: 1, state: 'ACTIVE', activity: 'idle' },
        }),
      );
      await flush();
    }
    expect(seen.reconnects).toHaveLength(0);
    server.sse();
    await clock.advance(2000);
    expect(seen.reconnects).toHaveLength(1);
    expect(seen.reconnects[0].error.message).toMatch(/no data for 2000 ms/);
    expect(body.done).toBe(true);
    await clock.fireNext();
    expect(server.requests[1].headers['last-event-id']).toBe('1');
    stream.close();
  });

  it('surfaces a gap, resumes after its toSeq, and backfills the range page by page', async () => {
    const { server, clock, stream, seen } = setup({ backfillPageSize: 2 });
    const gaps: number[][] = [];
    stream.on('gap', (g) => gaps.push([g.fromSeq, g.toSeq]));
    const body = server.sse();
    stream.start();
    await flush();
    const gap = {
      sessionId: SESSION_ID,
      reason: 'replay_gap_exceeded' as const,
      fromSeq: 1,
      toSeq: 5,
      headSeq: 5,
      state: 'ACTIVE' as const,
      activity: 'running' as const,
      historyUrl: `/v1/sessions/${SESSION_ID}/events?after=0&limit=1000`,
    };
    body.push(controlFrame({ event: 'gap', data: gap }) + eventFrame(6));
    await flush();
    expect(gaps).toEqual([[1, 5]]);
    expect(seen.events).toEqual([6]);
    expect(stream.status).toEqual({ state: 'ACTIVE', activity: 'running', headSeq: 6 });
    const page = (seqs: number[], hasMore: boolean) =>
      json(200, {
        sessionId: SESSION_ID,
        events: seqs.map((s) => JSON.parse(eventFrame(s).split('data: ')[1])),
        headSeq: 6,
        state: 'ACTIVE',
        activity: 'running',
        hasMore,
      });
    server.reply(
      page([1, 2], true),
      problem(502, 'internal_error'),
      page([3, 4], true),
      page([5, 6], true),
    );
    const pages: number[][] = [];
    const pending = (async () => {
      for await (const events of stream.backfill(gap)) pages.push(events.map((e) => e.seq));
    })();
    await flush();
    await clock.fireNext(); // the 502 is retried after a backoff
    await pending;
    expect(pages).toEqual([[1, 2], [3, 4], [5]]);
    const urls = server.requests.slice(1).map((r) => new URL(r.url).search);
    expect(urls).toEqual([
      '?after=0&limit=2',
      '?after=2&limit=2',
      '?after=2&limit=2',
      '?after=4&limit=2',
    ]);
    body.close();
    await flush();
    expect(server.requests.filter((r) => r.url.includes('/stream'))).toHaveLength(1);
    server.sse();
    await clock.fireNext();
    expect(server.requests.at(-1)!.headers['last-event-id']).toBe('6');
    stream.close();
  });

  it('backfills what still exists of a gap whose start retention removed (410 history_expired)', async () => {
    const { server, stream } = setup({ backfillPageSize: 2 });
    const page = (seqs: number[], hasMore: boolean) =>
      json(200, {
        sessionId: SESSION_ID,
        events: seqs.map((s) => JSON.parse(eventFrame(s).split('data: ')[1])),
        headSeq: 9,
        state: 'ACTIVE',
        activity: 'idle',
        hasMore,
      });
    const expired = (oldestSeq: number) =>
      json(410, {
        type: 'https://sessionwire.dev/problems/history-expired',
        title: 'History expired',
        status: 410,
        detail: 'events up to this cursor were removed by retention',
        code: 'history_expired',
        oldestSeq,
      });
    server.reply(expired(4), page([4, 5], true), page([6], true));
    expect((await stream.backfillAll({ fromSeq: 2, toSeq: 6 })).map((event) => event.seq)).toEqual([
      4, 5, 6,
    ]);
    expect(server.requests.map((r) => new URL(r.url).search)).toEqual([
      '?after=1&limit=2',
      '?after=3&limit=2',
      '?after=5&limit=2',
    ]);
    server.reply(expired(10));
    expect(await stream.backfillAll({ fromSeq: 2, toSeq: 9 })).toEqual([]);
    server.reply(json(410, { code: 'history_expired', status: 410 }));
    await expect(stream.backfillAll({ fromSeq: 2, toSeq: 9 })).rejects.toThrow('410');
  });

  it('reports state and activity from session.state events and heartbeats', async () => {
    const { server, stream } = setup();
    const states: string[] = [];
    stream.on('state', (s) => states.push(`${s.state}/${s.activity}`));
    const body = server.sse();
    stream.start();
    await flush();
    body.push(
      eventFrame(1, {
        type: 'session.state',
        data: { from: null, to: 'CREATED', reason: 'created' },
      }),
    );
    body.push(
      controlFrame({
        event: 'heartbeat',
        data: { headSeq: 1, state: 'CREATED', activity: 'idle' },
      }),
    );
    body.push(
      eventFrame(2, {
        type: 'session.state',
        data: { from: 'CREATED', to: 'STARTING', reason: 'claimed' },
      }),
    );
    await flush();
    expect(states).toEqual(['CREATED/undefined', 'CREATED/idle', 'STARTING/idle']);
    stream.close();
  });

  it('skips a malformed frame with an error and keeps going', async () => {
    const { server, stream, seen } = setup();
    const errors: string[] = [];
    stream.on('error', (e) => errors.push(e.message));
    const body = server.sse();
    stream.start();
    await flush();
    body.push('id: 1\nevent: message.delta\ndata: {"seq":1,"type":"message.delta","data":{}}\n\n');
    body.push(eventFrame(2));
    await flush();
    expect(errors).toEqual([expect.stringMatching(/does not fit its schema/)]);
    expect(seen.events).toEqual([2]);
    stream.close();
  });

  it('iterates events until the end frame and sends the token in the query when asked', async () => {
    const { server, stream } = setup({ tokenInQuery: true, after: 4 });
    const body = server.sse();
    const items: string[] = [];
    const done = (async () => {
      for await (const item of stream)
        items.push(item.kind === 'event' ? `e${item.event.seq}` : item.kind);
    })();
    await flush();
    expect(server.requests[0].url).toBe(
      `http://api.test/v1/sessions/${SESSION_ID}/stream?access_token=key-1`,
    );
    expect(server.requests[0].headers.authorization).toBeUndefined();
    expect(server.requests[0].headers['last-event-id']).toBe('4');
    body.push(
      eventFrame(5) + controlFrame({ event: 'live', data: { sessionId: SESSION_ID, headSeq: 5 } }),
    );
    body.push(controlFrame({ event: 'end', data: { sessionId: SESSION_ID, headSeq: 5 } }));
    await done;
    expect(items).toEqual(['e5', 'live']);
  });

  it('closes the stream when a loop over it is left early', async () => {
    const { server, clock, stream, seen } = setup();
    const body = server.sse();
    body.push(eventFrame(1) + eventFrame(2));
    for await (const item of stream) if (item.kind === 'event' && item.event.seq === 1) break;
    expect(seen.closes).toEqual([{ reason: 'closed' }]);
    await flush();
    expect(body.done).toBe(true);
    await clock.advance(600_000);
    expect(server.requests).toHaveLength(1);
  });

  it('makes the iterator throw on a fatal refusal', async () => {
    const { server, stream } = setup();
    server.reply(problem(403, 'forbidden'));
    await expect(
      (async () => {
        for await (const item of stream) void item;
      })(),
    ).rejects.toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('pauses reading while an iterator is full and resumes when it drains', async () => {
    const { server, stream } = setup({ bufferSize: 2 });
    const body = server.sse();
    const iterator = stream[Symbol.asyncIterator]();
    await flush();
    body.push(eventFrame(1) + eventFrame(2));
    await flush();
    body.push(eventFrame(3));
    await flush();
    expect(stream.lastSeq).toBe(2);
    expect((await iterator.next()).value).toMatchObject({ event: { seq: 1 } });
    expect((await iterator.next()).value).toMatchObject({ event: { seq: 2 } });
    await flush();
    expect(stream.lastSeq).toBe(3);
    stream.close();
  });

  it('close() aborts the connection, cancels the pending reconnect and clears every timer', async () => {
    const { server, clock, stream, seen } = setup();
    const body = server.sse();
    stream.start();
    await flush();
    expect(clock.pendingCount).toBe(1); // the heartbeat watchdog
    stream.close();
    await flush();
    expect(body.done).toBe(true);
    expect(clock.pendingCount).toBe(0);
    expect(seen.closes).toEqual([{ reason: 'closed' }]);

    const second = setup();
    second.stream.start();
    await flush();
    expect(second.seen.reconnects).toHaveLength(1);
    second.stream.close();
    await flush();
    expect(second.clock.pendingCount).toBe(0);
    await second.clock.advance(600_000);
    expect(second.server.requests).toHaveLength(1);
  });
});
