import { once } from 'node:events';
import {
  Agent,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Readable } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import { freePort, ManagedProcess } from './process';

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface LoadBalancerOptions {
  /** How long an upstream that refused a connection is skipped (ms). */
  downForMs?: number;
}

/**
 * A round-robin HTTP reverse proxy for a local cluster, safe for SSE: responses are piped as they
 * arrive (no buffering, Nagle off, no timeouts), and a request whose upstream refuses the
 * connection is retried on the next upstream, so a client reconnecting after a node died lands on
 * a live one. A response cut off mid-stream is cut off for the client too, never ended cleanly.
 */
export class LoadBalancer {
  private readonly proxy = createProxyServer({ xfwd: true, proxyTimeout: 0, timeout: 0 });
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  private readonly downUntil = new Map<string, number>();
  private readonly server: Server;
  private next = 0;
  /** Requests forwarded to each upstream, refused attempts included (for tests and demos). */
  readonly served = new Map<string, number>();

  constructor(
    private upstreams: string[],
    private readonly options: LoadBalancerOptions = {},
  ) {
    // keeps idle client connections as long as the API nodes do, like nginx (Node's 5 s races
    // a client reusing the connection just as the balancer closes it)
    this.server = createServer({ requestTimeout: 0, keepAliveTimeout: 65_000 }, (req, res) =>
      this.handle(req, res),
    );
    this.proxy.on('proxyRes', (proxyRes, _req, res) => {
      proxyRes.on('error', () => res.destroy());
      proxyRes.on('close', () => {
        if (!proxyRes.complete) res.destroy();
      });
      res.socket?.setNoDelay(true);
      if (String(proxyRes.headers['content-type']).startsWith('text/event-stream')) {
        setImmediate(() => {
          if (!res.destroyed && !res.writableEnded) res.flushHeaders();
        });
      }
    });
  }

  setUpstreams(upstreams: string[]): void {
    this.upstreams = upstreams;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server.listen(port, host);
    await once(this.server, 'listening');
    const address = this.server.address() as { port: number };
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
    this.agent.destroy();
    this.proxy.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { connection: 'close' }).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => this.forward(req, res, chunks, new Set()));
    req.on('error', () => res.destroy());
  }

  /** Upstreams in round-robin order, the ones recently refusing connections last. */
  private pick(tried: Set<string>): string | undefined {
    const now = Date.now();
    const candidates = this.upstreams.filter((u) => !tried.has(u));
    if (candidates.length === 0) return undefined;
    const start = this.next++ % this.upstreams.length;
    const ordered = [...this.upstreams.slice(start), ...this.upstreams.slice(0, start)].filter(
      (u) => !tried.has(u),
    );
    return ordered.find((u) => (this.downUntil.get(u) ?? 0) <= now) ?? ordered[0];
  }

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer[], tried: Set<string>) {
    if (res.writableEnded || res.destroyed) return;
    const target = this.pick(tried);
    if (!target) {
      res.writeHead(502, { 'content-type': 'text/plain', 'retry-after': '1' });
      res.end('no upstream available\n');
      return;
    }
    tried.add(target);
    this.served.set(target, (this.served.get(target) ?? 0) + 1);
    this.proxy.web(
      req,
      res,
      { target, agent: this.agent, buffer: Readable.from(body) },
      (error: NodeJS.ErrnoException) => {
        const safeRetry =
          CONNECT_ERRORS.has(error.code ?? '') ||
          ((req.method === 'GET' || req.method === 'HEAD') && !res.headersSent);
        if (CONNECT_ERRORS.has(error.code ?? '')) {
          this.downUntil.set(target, Date.now() + (this.options.downForMs ?? 1000));
        }
        if (safeRetry && !res.headersSent) return this.forward(req, res, body, tried);
        if (res.headersSent) res.destroy();
        else res.writeHead(502, { 'content-type': 'text/plain' }).end(`${error.code}\n`);
      },
    );
  }
}

export interface ClusterOptions {
  apiNodes: number;
  workers: number;
  databaseUrl: string;
  /** One Redis; leave it out and set `REDIS_CLUSTER_NODES` in `env` for a Redis Cluster. */
  redisUrl?: string;
  /** Extra environment for every process (e.g. `SYNC_INTERVAL_MS`, `API_KEYS`). */
  env?: Record<string, string | undefined>;
  apiEnv?: Record<string, string | undefined>;
  workerEnv?: Record<string, string | undefined>;
  /** Run `node dist/apps/api/main.js migrate` before starting the nodes. */
  migrate?: boolean;
  /** Port of the load balancer (default: a free one). */
  port?: number;
  /** Ready when a worker prints a matching line (default: as soon as it runs). */
  workerReadyLine?: RegExp;
  readyTimeoutMs?: number;
  loadBalancer?: LoadBalancerOptions;
}

const API_ENTRY = 'dist/apps/api/main.js';
const WORKER_ENTRY = 'dist/apps/worker/main.js';

/**
 * N built API processes and M built workers on loopback, behind a {@link LoadBalancer}, against
 * one Postgres and one Redis. API node `i` keeps its port across restarts, so the balancer finds
 * it again. Used by the end-to-end tests, the benchmarks and `npm run cluster`.
 */
export class LocalCluster {
  private listening = '';

  private constructor(
    readonly balancer: LoadBalancer,
    readonly apis: ManagedProcess[],
    readonly workers: ManagedProcess[],
    readonly apiUrls: string[],
  ) {}

  /** The load balancer's URL: what clients use. */
  get url(): string {
    return this.listening;
  }

  static async start(options: ClusterOptions): Promise<LocalCluster> {
    const common = {
      ...options.env,
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
    };
    const timeout = options.readyTimeoutMs ?? 30_000;
    if (options.migrate) await runMigrate(common, timeout);
    const ports = await uniquePorts(options.apiNodes);
    const apiUrls = ports.map((port) => `http://127.0.0.1:${port}`);
    const apis = ports.map(
      (port, i) =>
        new ManagedProcess({
          name: `api-${i}`,
          entry: API_ENTRY,
          env: { ...common, ...options.apiEnv, PORT: String(port) },
          readyUrl: `${apiUrls[i]}/readyz`,
          readyTimeoutMs: timeout,
        }),
    );
    const workers = Array.from(
      { length: options.workers },
      (_, i) =>
        new ManagedProcess({
          name: `worker-${i}`,
          entry: WORKER_ENTRY,
          env: { ...common, ...options.workerEnv, WORKER_ID: `worker-${i}`, PORT: undefined },
          readyLine: options.workerReadyLine,
          readyTimeoutMs: timeout,
        }),
    );
    const balancer = new LoadBalancer(apiUrls, options.loadBalancer);
    const cluster = new LocalCluster(balancer, apis, workers, apiUrls);
    try {
      await Promise.all([...apis, ...workers].map((p) => p.start()));
      cluster.listening = await balancer.listen(options.port ?? 0);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** SIGKILL (a crash) or SIGTERM (a graceful drain) one API node and wait for its exit. */
  async killApi(index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.apis[index].kill(signal);
  }

  /** Starts API node `index` again on its port and waits until it is ready. */
  async restartApi(index: number): Promise<void> {
    await this.apis[index].restart();
  }

  async killWorker(index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.workers[index].kill(signal);
  }

  async restartWorker(index: number): Promise<void> {
    await this.workers[index].restart();
  }

  /** Output of every process (for failing tests). */
  logs(): string {
    return [...this.apis, ...this.workers]
      .map((p) => `--- ${p.spec.name} ---\n${p.logs()}`)
      .join('\n');
  }

  /** Stops every process gracefully (SIGKILL after `timeoutMs`) and closes the balancer. */
  async stop(timeoutMs = 20_000): Promise<void> {
    await Promise.all([...this.apis, ...this.workers].map((p) => p.stop(timeoutMs)));
    if (this.listening) await this.balancer.close();
  }
}

async function runMigrate(env: Record<string, string | undefined>, timeoutMs: number) {
  const migrate = new ManagedProcess({ name: 'migrate', entry: API_ENTRY, args: ['migrate'], env });
  await migrate.start();
  const timer = setTimeout(() => void migrate.kill('SIGKILL'), timeoutMs);
  await migrate.waitForExit();
  clearTimeout(timer);
  if (migrate.exitCode !== 0) {
    throw new Error(
      `migrate exited with ${migrate.exitCode ?? migrate.exitSignal}: ${migrate.logs()}`,
    );
  }
}

async function uniquePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
