import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '../../../../test/process';
import { MemoryBroker } from './memory-broker';
import { serveSse, type SseStreamOptions } from './sse-stream';
import { StreamHub } from './stream-hub';
import { FlushScheduler } from './stream-writer';
import { FakeHistory } from './testing/fake-history';
import { sessionIds } from './testing/hub-fixture';
import { RecordingMetrics } from './testing/recording-metrics';

/** A server whose handler the test runs itself, with the request held until it does. */
async function heldServer() {
  const held: { req: IncomingMessage; res: ServerResponse }[] = [];
  const server = createServer((req, res) => held.push({ req, res }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    held,
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe(serveSse.name, () => {
  const [S1] = sessionIds(1, 'v');
  let history: FakeHistory;
  let broker: MemoryBroker;
  let hub: StreamHub;
  let sse: SseStreamOptions;

  beforeEach(() => {
    history = new FakeHistory();
    broker = new MemoryBroker();
    const metrics = new RecordingMetrics();
    hub = new StreamHub({
      broker,
      history,
      maxReplayGap: 200,
      syncIntervalMs: 3_600_000,
      heartbeatMs: 3_600_000,
      maxBufferBytes: 1 << 20,
      metrics,
    });
    sse = { scheduler: new FlushScheduler(), metrics, maxBufferBytes: 1 << 20 };
  });
  afterEach(async () => {
    await hub.close();
    await broker.close();
  });

  it('follows nothing for a client that left before its stream was served', async () => {
    history.create(S1, 'ACTIVE');
    const server = await heldServer();
    try {
      const client = request(`${server.url}/`);
      client.on('error', () => undefined); // the test hangs up on purpose
      client.end();
      await waitFor('the held request', () => server.held.length === 1, 10_000, 5);
      client.destroy();
      const { res } = server.held[0];
      await waitFor('the response to close', () => res.closed, 10_000, 5);
      const head = history.head(S1);
      expect(serveSse(hub, res, { sessionId: S1, cursor: 0, head }, sse)).toBeUndefined();
      expect(hub.openStreams).toBe(0);
      expect(broker.channelCount).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('answers HEAD with the headers of a stream and follows nothing', async () => {
    history.create(S1, 'ACTIVE');
    const server = await heldServer();
    try {
      const answered = new Promise<IncomingMessage>((resolve) =>
        request(`${server.url}/`, { method: 'HEAD' }, resolve).end(),
      );
      await waitFor('the held request', () => server.held.length === 1, 10_000, 5);
      const { res } = server.held[0];
      const head = history.head(S1);
      expect(serveSse(hub, res, { sessionId: S1, cursor: 0, head }, sse)).toBeUndefined();
      const response = await answered;
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(hub.openStreams).toBe(0);
      expect(history.eventReads).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
