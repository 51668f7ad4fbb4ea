import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { StoredEvent } from '../../libs/transport/src/protocol';
import { LocalCluster } from '../cluster';
import { createTestDatabase, testRedisPrefix, testRedisUrl, type TestDatabase } from '../database';
import { freePort, sleep, waitFor } from '../process';
import { redisCli } from '../redis-cli';
import { LocalRedisCluster } from '../redis-cluster';
import { readSseBody, SseDecoder, type EventSourceMessage } from '../sse';

interface GapData {
  fromSeq: number;
  toSeq: number;
}

/**
 * An SSE client for the fault suite. It reconnects with `Last-Event-ID` like a browser's
 * EventSource and records every stored event exactly as received (no deduplication), so a test
 * can compare them with the log. With `churnMs` it also drops each connection itself after a
 * random time below `churnMs`, at whatever point of a frame the bytes happen to be.
 */
export class FaultClient {
  /**
   * Clients still running. The suite stops them after the file's tests even when a test failed
   * before its own cleanup: a client left reconnecting keeps the test process alive.
   */
  private static readonly running = new Set<FaultClient>();
  readonly events: StoredEvent[] = [];
  readonly gaps: GapData[] = [];
  readonly violations: string[] = [];
  /** Why connections ended other than by this client (refused, cut, non-200 status). */
  readonly interruptions: string[] = [];
  connections = 0;
  /** `live` frames received: one per connection that caught up. */
  lives = 0;
  ended = false;
  private lastEventId?: string;
  private readonly abort = new AbortController();
  private done?: Promise<void>;

  constructor(
    private readonly baseUrl: string,
    readonly sessionId: string,
    private readonly options: { churnMs?: number; headers?: Record<string, string> } = {},
  ) {}

  start(): this {
    FaultClient.running.add(this);
    this.done = this.run().finally(() => FaultClient.running.delete(this));
    return this;
  }

  /** Stops every client still running and waits until they have stopped. */
  static async stopAll(): Promise<void> {
    const clients = [...FaultClient.running];
    for (const client of clients) client.stop();
    await Promise.all(clients.map((client) => client.done));
  }

  /** Resolves when the server sent `end` (or 204); gives up after `timeoutMs`. */
  async finished(timeoutMs = 30_000): Promise<void> {
    const timer = setTimeout(() => this.abort.abort(), timeoutMs);
    await this.done;
    clearTimeout(timer);
  }

  stop(): void {
    this.abort.abort();
  }

  private async run(): Promise<void> {
    while (!this.ended && !this.abort.signal.aborted) {
      const connection = new AbortController();
      const onAbort = () => connection.abort();
      this.abort.signal.addEventListener('abort', onAbort);
      const churn = this.options.churnMs
        ? setTimeout(() => connection.abort(), Math.random() * this.options.churnMs)
        : undefined;
      try {
        await this.connectOnce(connection.signal);
      } catch (error) {
        // a refused or cut connection is what the faults cause: note it and reconnect
        if (!connection.signal.aborted)
          this.interruptions.push(String((error as Error).cause ?? error));
      } finally {
        clearTimeout(churn);
        this.abort.signal.removeEventListener('abort', onAbort);
      }
      if (!this.ended && !this.abort.signal.aborted)
        await sleep(this.options.churnMs ? 5 : 50 + Math.random() * 150);
    }
  }

  private async connectOnce(signal: AbortSignal): Promise<void> {
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      ...this.options.headers,
    };
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
    const response = await fetch(`${this.baseUrl}/v1/sessions/${this.sessionId}/stream`, {
      headers,
      signal,
    });
    if (response.status === 204) {
      this.ended = true;
      return;
    }
    if (response.status !== 200) {
      this.interruptions.push(`status ${response.status}`);
      await response.body?.cancel();
      return;
    }
    this.connections++;
    const decoder = new SseDecoder({ onMessage: (message) => this.onEvent(message) });
    await readSseBody(response.body!, decoder, () => this.ended);
  }

  private onEvent(message: EventSourceMessage): void {
    if (message.id !== undefined) this.lastEventId = message.id;
    if (message.event === 'end') this.ended = true;
    if (message.event === 'live') this.lives++;
    if (message.event === 'gap') this.gaps.push(JSON.parse(message.data) as GapData);
    if (['live', 'heartbeat', 'end', 'gap'].includes(message.event ?? '')) return;
    const event = JSON.parse(message.data) as StoredEvent;
    if (String(event.seq) !== message.id || event.sessionId !== this.sessionId) {
      this.violations.push(`frame id ${message.id} carries ${message.data.slice(0, 200)}`);
    }
    this.events.push(event);
  }
}

/** Waits until every client caught up and follows its session live (a `live` frame). */
export async function waitForLive(clients: FaultClient[], timeoutMs = 15_000): Promise<void> {
  await waitFor(
    `${clients.length} clients live`,
    () => clients.every((c) => c.lives > 0),
    timeoutMs,
  );
}

/** How many `message.delta` events the log of each session holds now. */
export async function countDeltas(db: TestDatabase, sessionIds: string[]): Promise<number[]> {
  const deltas = async (id: string) =>
    (await readLog(db, id)).filter((e) => e.type === 'message.delta').length;
  return Promise.all(sessionIds.map(deltas));
}

/**
 * Waits until the log of every session holds `count` more `message.delta` events than `since`
 * (counted before the turns were sent; none for new sessions): the turns are streaming, so a
 * fault injected now lands in the middle of them. Deltas are coalesced while a commit is in
 * flight, so a short turn on a loaded machine may write only a few: ask for more than one only
 * of long turns.
 */
export async function waitForDeltas(
  db: TestDatabase,
  sessionIds: string[],
  since: number[] = sessionIds.map(() => 0),
  count = 1,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    `${count} new delta(s) in each of ${sessionIds.length} sessions`,
    async () => (await countDeltas(db, sessionIds)).every((n, i) => n - since[i] >= count),
    timeoutMs,
    100,
  );
}

/** `count` clients started on the sessions in turn (client i follows session i mod n). */
export function startClients(baseUrl: string, sessionIds: string[], count: number): FaultClient[] {
  return Array.from({ length: count }, (_, i) =>
    new FaultClient(baseUrl, sessionIds[i % sessionIds.length]).start(),
  );
}

/** Sends the same message to every session at once. */
export async function sendToAll(baseUrl: string, sessionIds: string[], content: string) {
  await Promise.all(
    sessionIds.map((id) => post(`${baseUrl}/v1/sessions/${id}/messages`, { content })),
  );
}

/** Reads a session's whole log from Postgres. */
export async function readLog(db: TestDatabase, sessionId: string): Promise<StoredEvent[]> {
  const log: StoredEvent[] = [];
  for (;;) {
    const page = await db.store.getEventsAfter(sessionId, log.at(-1)?.seq ?? 0, 1000);
    log.push(...page);
    if (page.length < 1000) return log;
  }
}

/**
 * What a client must have received: the log minus the ranges it was told it skipped, each event
 * once, in seq order, byte for byte as stored.
 */
export function expectMatchesLog(
  client: Pick<FaultClient, 'sessionId' | 'events' | 'gaps' | 'violations'>,
  log: StoredEvent[],
): void {
  const skipped = (seq: number) => client.gaps.some((g) => seq >= g.fromSeq && seq <= g.toSeq);
  const expected = log.filter((e) => !skipped(e.seq));
  const seqs = client.events.map((e) => e.seq);
  expect({
    session: client.sessionId,
    duplicates: seqs.filter((s, i) => seqs.indexOf(s) !== i),
  }).toEqual({
    session: client.sessionId,
    duplicates: [],
  });
  expect({ session: client.sessionId, seqs }).toEqual({
    session: client.sessionId,
    seqs: expected.map((e) => e.seq),
  });
  expect(client.events.map(({ type, data }) => ({ type, data }))).toEqual(
    expected.map(({ type, data }) => ({ type, data })),
  );
  expect(client.violations).toEqual([]);
}

export async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`POST ${url} → ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

export async function createSessions(baseUrl: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await post(`${baseUrl}/v1/sessions`, {})).id as string);
  return ids;
}

/** Waits until every session has `turns` completed turns in its log. */
export async function waitForTurns(
  db: TestDatabase,
  sessionIds: string[],
  turns: number,
  timeoutMs = 60_000,
) {
  await waitFor(
    `${turns} completed turn(s) in every session`,
    async () => {
      for (const id of sessionIds) {
        const log = await readLog(db, id);
        if (log.filter((e) => e.type === 'turn.completed').length < turns) return false;
      }
      return true;
    },
    timeoutMs,
    250,
  );
}

/**
 * Ends every session, waits for every client's `end`, and checks each client against the log,
 * then that every API node is ready again and every worker still runs.
 */
export async function endAndVerify(
  cluster: LocalCluster,
  db: TestDatabase,
  sessionIds: string[],
  clients: FaultClient[],
) {
  for (const id of sessionIds) await post(`${cluster.url}/v1/sessions/${id}/end`, {});
  await Promise.all(clients.map((c) => c.finished(45_000)));
  expect(clients.filter((c) => !c.ended).map((c) => c.sessionId)).toEqual([]);
  const logs = new Map<string, StoredEvent[]>();
  for (const id of sessionIds) logs.set(id, await readLog(db, id));
  for (const client of clients) expectMatchesLog(client, logs.get(client.sessionId)!);
  await expectHealthy(cluster);
}

export async function expectHealthy(cluster: LocalCluster): Promise<void> {
  for (const url of cluster.apiUrls) {
    await waitFor(`${url} ready`, async () => (await fetch(`${url}/readyz`)).ok, 20_000, 100);
  }
  expect(cluster.workers.filter((w) => !w.running).map((w) => w.spec.name)).toEqual([]);
}

/** A private redis-server on a free port, so killing it disturbs no other test. */
export class PrivateRedis {
  private child?: ChildProcess;
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.launch();
    return redis;
  }

  async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor('redis-server ready', () => /Ready to accept connections/.test(output), 10_000);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Runs one command through redis-cli and returns its output (see {@link redisCli}). */
  cli(...args: string[]): Promise<string> {
    return redisCli(['-p', String(this.port), ...args]);
  }
}

/** Cluster settings of the fault suite: fast sync, leases and drains so faults heal in seconds. */
export const FAULT_ENV = {
  SYNC_INTERVAL_MS: '250',
  HEARTBEAT_MS: '1000',
  DRAIN_MS: '500',
  LEASE_MS: '2000',
  WORKER_POLL_MS: '100',
  WORKER_DRAIN_MS: '1000',
};

export interface FaultClusterOptions {
  apiNodes: number;
  workers: number;
  /**
   * The Redis the cluster uses: the shared test Redis under a key prefix of this file (default),
   * a private redis-server the test may kill (`suite.redis`), or a private Redis Cluster
   * (`suite.redisCluster`, passed as `REDIS_CLUSTER_NODES`).
   */
  redis?: 'shared' | 'private' | 'cluster';
  /** On top of {@link FAULT_ENV}, for every process. */
  env?: Record<string, string | undefined>;
  apiEnv?: Record<string, string | undefined>;
}

/** What {@link useFaultCluster} started; read inside tests and hooks (set by its `beforeAll`). */
export interface FaultSuite {
  db: TestDatabase;
  cluster: LocalCluster;
  redis: PrivateRedis;
  redisCluster: LocalRedisCluster;
}

/**
 * The fault suite's setup, registered in the calling `describe`: a database of its own, its Redis
 * (see {@link FaultClusterOptions.redis}) and a {@link LocalCluster} with {@link FAULT_ENV},
 * started in `beforeAll` and stopped, with the database dropped, in `afterAll`.
 */
export function useFaultCluster(options: FaultClusterOptions): FaultSuite {
  const started: Partial<FaultSuite> = {};
  beforeAll(async () => {
    const db = await createTestDatabase();
    started.db = db;
    const env: Record<string, string | undefined> = { ...FAULT_ENV };
    let redisUrl: string | undefined;
    if (options.redis === 'private') {
      started.redis = await PrivateRedis.start();
      redisUrl = started.redis.url;
    } else if (options.redis === 'cluster') {
      started.redisCluster = await LocalRedisCluster.start();
      env.REDIS_CLUSTER_NODES = started.redisCluster.seeds;
    } else {
      redisUrl = testRedisUrl();
      env.REDIS_PREFIX = testRedisPrefix();
    }
    started.cluster = await LocalCluster.start({
      apiNodes: options.apiNodes,
      workers: options.workers,
      databaseUrl: db.url,
      redisUrl,
      env: { ...env, ...options.env },
      apiEnv: options.apiEnv,
    });
  });
  afterAll(async () => {
    await FaultClient.stopAll();
    await started.cluster?.stop();
    await started.redis?.kill();
    await started.redisCluster?.stop();
    await started.db?.drop();
  });
  const get = <K extends keyof FaultSuite>(key: K): FaultSuite[K] => {
    const value = started[key];
    if (value === undefined) throw new Error(`the fault suite has no ${key} (yet)`);
    return value as FaultSuite[K];
  };
  return {
    get db() {
      return get('db');
    },
    get cluster() {
      return get('cluster');
    },
    get redis() {
      return get('redis');
    },
    get redisCluster() {
      return get('redisCluster');
    },
  };
}

// Files that start FaultClients without useFaultCluster stop them here, after their own hooks.
afterAll(() => FaultClient.stopAll());
