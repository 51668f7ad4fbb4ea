import { connect, type Socket } from 'node:net';
import { waitFor } from '../process';
import {
  createSessions,
  expectMatchesLog,
  FaultClient,
  post,
  readLog,
  useFaultCluster,
  waitForTurns,
} from './fault-support';

const HEADERS_TIMEOUT_MS = 2000;
const SLOWLORIS = Number(process.env.SLOWLORIS_CONNECTIONS ?? 500);

interface RawConnection {
  socket: Socket;
  received: string;
  closed: boolean;
}

function rawConnection(url: string, send: string, read = true): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const connection: RawConnection = { socket, received: '', closed: false };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (connection.received += chunk));
    socket.on('close', () => (connection.closed = true));
    socket.on('error', () => (connection.closed = true));
    socket.once('connect', () => {
      if (send) socket.write(send);
      if (!read) socket.pause();
      resolve(connection);
    });
    socket.once('error', reject);
  });
}

async function metric(node: string, name: string): Promise<number> {
  const text = await (await fetch(`${node}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

// Clients that hold connections without finishing their requests (slowloris) or that stop
// reading their stream must not keep a node from serving everyone else.
describe('Fault suite: slow and silent clients', () => {
  const suite = useFaultCluster({
    apiNodes: 1,
    workers: 1,
    env: {
      MAX_REPLAY_GAP: '100000',
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(2 * HEADERS_TIMEOUT_MS),
    },
  });

  it(`serves everyone while ${SLOWLORIS} connections never finish their headers, then closes them with 408`, async () => {
    const node = suite.cluster.apiUrls[0];
    const [sessionId] = await createSessions(node, 1);
    const client = new FaultClient(node, sessionId).start();
    const lorises: RawConnection[] = [];
    const tricklers: RawConnection[] = [];
    for (let i = 0; i < SLOWLORIS; i++) {
      // A third send nothing at all, the rest a request line, then a header line now and then.
      const silent = i % 3 === 0;
      const partial = silent ? '' : `GET /v1/sessions/${sessionId}/stream HTTP/1.1\r\nHost: x\r\n`;
      const loris = await rawConnection(node, partial);
      lorises.push(loris);
      if (!silent) tricklers.push(loris);
    }
    const trickle = setInterval(() => {
      for (const loris of tricklers) if (!loris.closed) loris.socket.write('X-Slow: 1\r\n');
    }, 500);
    try {
      // The node answers others at once while every slow connection is still open.
      expect(lorises.filter((l) => l.closed)).toHaveLength(0);
      expect((await fetch(`${node}/v1/sessions/${sessionId}`)).status).toBe(200);
      await post(`${node}/v1/sessions/${sessionId}/messages`, { content: '/stream 50 2' });
      await waitForTurns(suite.db, [sessionId], 1);
      const log = await readLog(suite.db, sessionId);
      await waitFor(
        'the stream delivered the turn',
        () => client.events.length >= log.length,
        10_000,
      );
      // Past the headers timeout every slow connection is answered 408 problem+json and closed.
      await waitFor(
        'every slow connection closed',
        () => lorises.every((l) => l.closed),
        20_000,
        100,
      );
    } finally {
      clearInterval(trickle);
    }
    for (const loris of lorises) {
      expect(loris.received).toMatch(/^HTTP\/1\.1 408 .*\r\n[\s\S]*application\/problem\+json/);
      expect(loris.received).toContain('"code":"request_timeout"');
    }
    expect(client.interruptions).toEqual([]);
    await post(`${node}/v1/sessions/${sessionId}/end`, {});
    await client.finished(20_000);
    expectMatchesLog(client, await readLog(suite.db, sessionId));
  }, 90_000);

  it('answers headers over the limit with 431 problem+json and keeps idle kept-alive connections', async () => {
    const node = suite.cluster.apiUrls[0];
    const big = await rawConnection(
      node,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
    );
    await waitFor('431', () => big.closed, 10_000);
    expect(big.received).toMatch(/^HTTP\/1\.1 431 [\s\S]*"code":"header_fields_too_large"/);
    // A kept-alive connection idle past the headers timeout is not cut: only the keep-alive timeout governs it.
    const idle = await rawConnection(node, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('first answer', () => idle.received.includes('\r\n\r\n'), 5_000);
    await new Promise((resolve) => setTimeout(resolve, HEADERS_TIMEOUT_MS * 2));
    expect(idle.closed).toBe(false);
    idle.received = '';
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('second answer', () => idle.received.startsWith('HTTP/1.1 200'), 5_000);
    idle.socket.destroy();
  }, 30_000);

  it('closes a stream whose client stops reading and keeps serving the others', async () => {
    const node = suite.cluster.apiUrls[0];
    const [sessionId] = await createSessions(node, 1);
    const healthy = new FaultClient(node, sessionId).start();
    const before = await metric(node, 'sessionwire_slow_client_closes_total');
    const stuck = await rawConnection(
      node,
      `GET /v1/sessions/${sessionId}/stream HTTP/1.1\r\nHost: x\r\n\r\n`,
      false,
    );
    // Far more than the socket buffers and STREAM_MAX_BUFFER_BYTES (1 MiB) hold.
    for (let turn = 1; turn <= 3; turn++) {
      await post(`${node}/v1/sessions/${sessionId}/messages`, { content: '/stream 200000' });
      await waitForTurns(suite.db, [sessionId], turn, 60_000);
    }
    await waitFor(
      'the stuck stream was closed',
      async () => (await metric(node, 'sessionwire_slow_client_closes_total')) > before,
      20_000,
      200,
    );
    await post(`${node}/v1/sessions/${sessionId}/end`, {});
    await healthy.finished(30_000);
    stuck.socket.destroy();
    expectMatchesLog(healthy, await readLog(suite.db, sessionId));
  }, 120_000);
});
