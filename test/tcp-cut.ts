import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder on loopback that can cut the line: while cut, every open connection is
 * destroyed and new ones are closed at once (as a Postgres that went away looks to its clients).
 * Tests put it between one process and Postgres to take Postgres away from that process only.
 */
export class TcpCut {
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  private server?: Server;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** A URL like `url` that goes through this forwarder. */
  static async around(url: string): Promise<{ cut: TcpCut; url: string }> {
    const parsed = new URL(url);
    const cut = new TcpCut(parsed.hostname, Number(parsed.port || 5432));
    await cut.listen();
    parsed.hostname = '127.0.0.1';
    parsed.port = String(cut.port);
    return { cut, url: parsed.toString() };
  }

  async listen(): Promise<void> {
    const server = createServer((client) => {
      if (this.cutOff) return void client.destroy();
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined); // the other side is destroyed below
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server = server;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as { port: number }).port;
  }

  /** Destroys every connection and refuses new ones until {@link restore}. */
  cut(): void {
    this.cutOff = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    const server = this.server;
    if (server) await new Promise<void>((done) => server.close(() => done()));
  }
}
