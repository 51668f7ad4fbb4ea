import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { LoadBalancer } from '../cluster';
import { freePort } from '../process';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function upstream(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
}

/** Reads a fetch body until `predicate(textSoFar)` holds. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  predicate: (text: string) => boolean,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  while (!predicate(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended after: ${JSON.stringify(text)}`);
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

describe(LoadBalancer.name, () => {
  const servers: Server[] = [];
  let balancer: LoadBalancer | undefined;

  afterEach(async () => {
    await balancer?.close();
    balancer = undefined;
    await Promise.all(servers.splice(0).map(close));
  });

  it('passes SSE frames through one by one, without buffering', async () => {
    let release!: () => void;
    const second = new Promise<void>((r) => (release = r));
    const sse = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('retry: 1000\n\nid: 1\ndata: one\n\n');
      void second.then(() => res.end('id: 2\ndata: two\n\n'));
    });
    servers.push(sse.server);
    balancer = new LoadBalancer([sse.url]);
    const url = await balancer.listen();

    const response = await fetch(`${url}/stream`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    // The second frame is only written once the first one reached the client through the proxy.
    const first = await readUntil(reader, (t) => t.includes('data: one\n\n'));
    expect(first).not.toContain('two');
    release();
    const rest = await readUntil(reader, (t) => t.includes('data: two\n\n'));
    expect(rest).toBe('id: 2\ndata: two\n\n');
  });

  it('sends requests round-robin across upstreams', async () => {
    const names = ['a', 'b'];
    for (const name of names) {
      const up = await upstream((_req, res) => res.end(name));
      servers.push(up.server);
    }
    balancer = new LoadBalancer(
      servers.map((s) => `http://127.0.0.1:${(s.address() as { port: number }).port}`),
    );
    const url = await balancer.listen();
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(await (await fetch(`${url}/`)).text());
    expect(seen.sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  it('skips a dead upstream, with the request body intact', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const live = await upstream((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.end(`${req.method} ${req.url} ${body}`));
    });
    servers.push(live.server);
    balancer = new LoadBalancer([dead, live.url]);
    const url = await balancer.listen();

    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${url}/v1/x?i=${i}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ i }),
      });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(`POST /v1/x?i=${i} {"i":${i}}`);
    }
    expect(balancer.served.get(live.url)).toBe(4);
  });

  it('answers 502 when no upstream is alive', async () => {
    balancer = new LoadBalancer([`http://127.0.0.1:${await freePort()}`]);
    const url = await balancer.listen();
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(502);
  });

  it('cuts the client off when its upstream dies mid-stream', async () => {
    const sse = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: 1\ndata: one\n\n');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    servers.push(sse.server);
    balancer = new LoadBalancer([sse.url]);
    const url = await balancer.listen();

    const reader = (await fetch(`${url}/stream`)).body!.getReader();
    await readUntil(reader, (t) => t.includes('data: one'));
    // A clean end would let a client believe the stream finished; it must see an error.
    await expect(readUntil(reader, () => false)).rejects.toThrow();
  });
});
