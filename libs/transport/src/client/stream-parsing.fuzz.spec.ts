import fc from 'fast-check';
import type { StoredEvent } from '../protocol';
import { decodeFrame } from './frame-decoder';
import { ProtocolError } from './errors';
import { SessionStream } from './session-stream';
import { flush, FakeClock } from './testing/fake-clock';
import { controlFrame, eventFrame, FakeServer, SESSION_ID } from './testing/fake-server';

// Property-based tests of the SDK's stream parsing: random and truncated byte streams, split at
// random and at every byte boundary. FUZZ_RUNS scales the number of cases (`npm run fuzz`),
// FUZZ_SEED replays a failing run (fast-check prints the seed and path of every failure).
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const TIMEOUT_MS = 30_000 + RUNS * 200;
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) };

type Item =
  | { kind: 'event'; seq: number }
  | { kind: 'gap'; fromSeq: number; toSeq: number }
  | { kind: 'heartbeat' }
  | { kind: 'comment'; text: string }
  | { kind: 'unknown'; name: string; data: string }
  | { kind: 'bad'; name: string; data: string };

const line = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' '));
const item: fc.Arbitrary<Item> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('event' as const),
      seq: fc.integer({ min: 1, max: 40 }),
    }),
  },
  fc
    .tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 10 }))
    .map(([fromSeq, n]) => ({ kind: 'gap' as const, fromSeq, toSeq: fromSeq + n })),
  fc.constant({ kind: 'heartbeat' as const }),
  fc.record({ kind: fc.constant('comment' as const), text: line }),
  fc.record({
    kind: fc.constant('unknown' as const),
    name: fc.stringMatching(/^x-[a-z]{1,8}$/),
    data: line,
  }),
  fc.record({
    kind: fc.constant('bad' as const),
    name: fc.constantFrom('message.delta', 'gap', 'live', 'heartbeat', 'turn.completed'),
    data: fc.oneof(line, fc.constant('{"seq":1'), fc.constant('[]'), fc.constant('{"seq":-1}')),
  }),
);

function encode(entry: Item): string {
  switch (entry.kind) {
    case 'event':
      return eventFrame(entry.seq);
    case 'gap':
      return controlFrame({
        event: 'gap',
        data: {
          sessionId: SESSION_ID,
          reason: 'replay_gap_exceeded',
          fromSeq: entry.fromSeq,
          toSeq: entry.toSeq,
          headSeq: entry.toSeq,
          state: 'ACTIVE',
          activity: 'running',
          historyUrl: `/v1/sessions/${SESSION_ID}/events?after=${entry.fromSeq - 1}&limit=1000`,
        },
      });
    case 'heartbeat':
      return controlFrame({
        event: 'heartbeat',
        data: { headSeq: 1, state: 'ACTIVE', activity: 'idle' },
      });
    case 'comment':
      return `: ${entry.text}\n`;
    case 'unknown':
    case 'bad':
      return `event: ${entry.name}\ndata: ${entry.data}\n\n`;
  }
}

/** What a client must deliver for the frames that arrived whole: each seq once, ascending. */
function expectedSeqs(items: Item[]): number[] {
  let cursor = 0;
  const seqs: number[] = [];
  for (const entry of items) {
    if (entry.kind === 'event' && entry.seq > cursor) seqs.push((cursor = entry.seq));
    if (entry.kind === 'gap') cursor = Math.max(cursor, entry.toSeq);
  }
  return seqs;
}

/** Feeds `bytes` in the given chunks to a SessionStream and returns what it delivered. */
async function deliver(chunks: Uint8Array[]): Promise<{ seqs: number[]; thrown: unknown[] }> {
  const server = new FakeServer(() => 'hang');
  const body = server.sse();
  const stream = new SessionStream({
    baseUrl: 'http://api.test',
    sessionId: SESSION_ID,
    fetch: server.fetch,
    clock: new FakeClock(),
    random: () => 0.5,
  });
  const seqs: number[] = [];
  const thrown: unknown[] = [];
  stream.on('event', (event: StoredEvent) => seqs.push(event.seq));
  stream.on('error', (error) => {
    if (!(error instanceof ProtocolError)) thrown.push(error);
  });
  stream.on('offline', () => undefined);
  try {
    stream.start();
    await flush();
    for (const chunk of chunks) {
      body.pushBytes(chunk);
      await flush(1);
    }
    await flush();
  } catch (error) {
    thrown.push(error);
  } finally {
    stream.close();
  }
  return { seqs, thrown };
}

function split(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const cuts = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > from) chunks.push(bytes.subarray(from, cut));
    from = Math.max(from, cut);
  }
  return chunks;
}

/** The items whose frame ends within the first `length` bytes. */
function wholeItems(items: Item[], length: number): Item[] {
  const encoder = new TextEncoder();
  const whole: Item[] = [];
  let end = 0;
  for (const entry of items) {
    end += encoder.encode(encode(entry)).length;
    if (end > length) break;
    whole.push(entry);
  }
  return whole;
}

describe('SDK stream parsing under random byte streams', () => {
  it('decodeFrame throws nothing but ProtocolError on any message', () => {
    fc.assert(
      fc.property(
        fc.record({
          event: fc.option(
            fc.oneof(
              fc.constantFrom(
                'message.delta',
                'gap',
                'live',
                'heartbeat',
                'end',
                'session.state',
                'error',
              ),
              fc.string(),
            ),
            { nil: undefined },
          ),
          id: fc.option(fc.oneof(fc.string(), fc.nat().map(String)), { nil: undefined }),
          data: fc.oneof(
            fc.string({ unit: 'binary' }),
            fc.json(),
            fc.jsonValue().map((v) => JSON.stringify({ seq: 1, type: 'message.delta', data: v })),
          ),
        }),
        (message) => {
          try {
            const frame = decodeFrame(message);
            expect(['event', 'gap', 'live', 'heartbeat', 'end', 'ignored']).toContain(frame.kind);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
          }
        },
      ),
      params,
    );
  });

  it(
    'delivers every whole frame once, in order, however the bytes are split and cut',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(item, { maxLength: 25 }),
          fc.array(fc.nat(), { maxLength: 30 }),
          fc.nat(),
          async (items, points, cut) => {
            const bytes = new TextEncoder().encode(items.map(encode).join(''));
            const length = cut % (bytes.length + 1);
            const { seqs, thrown } = await deliver(split(bytes.subarray(0, length), points));
            expect(thrown).toEqual([]);
            expect(seqs).toEqual(expectedSeqs(wholeItems(items, length)));
          },
        ),
        params,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'gives the same result split at every single byte boundary',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 3 }), async (items) => {
          const bytes = new TextEncoder().encode(items.map(encode).join(''));
          const expected = expectedSeqs(items);
          for (let at = 0; at <= bytes.length; at++) {
            const { seqs, thrown } = await deliver([bytes.subarray(0, at), bytes.subarray(at)]);
            expect(thrown).toEqual([]);
            expect(seqs).toEqual(expected);
          }
        }),
        { ...params, numRuns: Math.max(3, Math.round(RUNS / 30)) },
      );
    },
    TIMEOUT_MS,
  );
});
