import type { StoredEvent } from '../../protocol';
import { publishEvents, type Broker } from '../broker';
import { MemoryBroker } from '../memory-broker';
import { StreamHub, type StreamHubOptions } from '../stream-hub';
import { FlushScheduler } from '../stream-writer';
import { FakeHistory } from './fake-history';
import { RecordingMetrics } from './recording-metrics';
import { SseClient, startHubServer, type HubServer } from './sse-test-kit';

const DEFAULT_MAX_BUFFER_BYTES = 1 << 20;

export interface LogEntry {
  level: 'warn' | 'error';
  msg: string;
  obj: object;
}

/**
 * A hub served over SSE on a real HTTP server, over a {@link FakeHistory} and a broker, with
 * recorded metrics.
 */
export class HubFixture {
  readonly history = new FakeHistory();
  readonly metrics = new RecordingMetrics();
  readonly logs: LogEntry[] = [];
  readonly hub: StreamHub;
  private server!: HubServer;
  private readonly clients: SseClient[] = [];

  private constructor(
    readonly broker: Broker,
    options: Partial<StreamHubOptions>,
  ) {
    this.hub = new StreamHub({
      broker,
      history: this.history,
      maxReplayGap: 200,
      syncIntervalMs: 3_600_000,
      heartbeatMs: 3_600_000,
      maxBufferBytes: DEFAULT_MAX_BUFFER_BYTES,
      metrics: this.metrics,
      log: {
        warn: (obj, msg) => this.logs.push({ level: 'warn', msg, obj }),
        error: (obj, msg) => this.logs.push({ level: 'error', msg, obj }),
      },
      ...options,
    });
  }

  /**
   * Starts a hub. With `headsFromHub`, each request's head comes from `hub.resolveHead` (as in the
   * API); otherwise straight from the fake log, outside the recorded calls.
   */
  static async start(
    options: Partial<StreamHubOptions> = {},
    broker: Broker = new MemoryBroker(),
    { headsFromHub = false }: { headsFromHub?: boolean } = {},
  ): Promise<HubFixture> {
    const fixture = new HubFixture(broker, options);
    fixture.server = await startHubServer(
      fixture.hub,
      (id, cursor) =>
        headsFromHub ? fixture.hub.resolveHead(id, cursor) : fixture.history.head(id),
      {
        scheduler: new FlushScheduler(),
        metrics: fixture.metrics,
        maxBufferBytes: options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES,
      },
    );
    return fixture;
  }

  /** Opens a stream with `?after=` (or none), plus any headers. */
  open(
    sessionId: string,
    after?: number,
    headers: Record<string, string> = {},
    options: { read?: boolean } = {},
  ): SseClient {
    const query = after === undefined ? '' : `?after=${after}`;
    const client = new SseClient(`${this.server.url}/${sessionId}${query}`, headers, options);
    this.clients.push(client);
    return client;
  }

  /** Opens a stream and waits until it is live. */
  async openLive(sessionId: string, after?: number): Promise<SseClient> {
    const client = this.open(sessionId, after);
    await client.waitFor((c) => c.named('live').length === 1);
    return client;
  }

  publish(events: readonly StoredEvent[]): Promise<void> {
    return publishEvents(this.broker, events);
  }

  get errors(): LogEntry[] {
    return this.logs.filter((entry) => entry.level === 'error');
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.close();
    await this.hub.close();
    await this.server.close();
    await this.broker.close();
  }
}

export const sessionIds = (count: number, tag = 'a'): string[] =>
  Array.from(
    { length: count },
    (_, i) => `0190b1a0-0000-7000-8${tag.padStart(3, '0')}-${String(i + 1).padStart(12, '0')}`,
  );
