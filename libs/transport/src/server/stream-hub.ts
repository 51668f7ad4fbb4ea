import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeRetry } from '../protocol';
import type { Broker } from './broker';
import { HeadLoader } from './head-loader';
import type { HistoryReader, SessionHead } from './history';
import { HubStream } from './hub-stream';
import { SessionFanout, type HubLog } from './session-fanout';
import { DEFAULT_TAIL_CACHE_BYTES } from './tail-cache';
import { FlushScheduler, SSE_HEADERS } from './sse-connection';
import { NOOP_STREAM_METRICS, type StreamMetrics } from './stream-metrics';

export interface StreamHubOptions {
  broker: Broker;
  history: HistoryReader;
  /** MAX_REPLAY_GAP: a resume or catch-up further behind gets one `gap` frame instead of events. */
  maxReplayGap: number;
  /** SYNC_INTERVAL_MS: period of the batched head check. */
  syncIntervalMs: number;
  /** HEARTBEAT_MS. */
  heartbeatMs: number;
  /** STREAM_MAX_BUFFER_BYTES: a stream with more unsent bytes is closed. */
  maxBufferBytes: number;
  metrics?: StreamMetrics;
  log?: HubLog;
  /** Events per history read (default 500, at most `maxReplayGap`). */
  pageSize?: number;
  /** The `retry:` sent when a stream opens (default 1000 ms). */
  retryMs?: number;
  /** Byte bound of each session's tail cache of recent events (default 256 KiB). */
  tailCacheBytes?: number;
}

export interface ServeParams {
  sessionId: string;
  cursor: number;
  head: SessionHead;
}

const consoleLog: HubLog = {
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

/**
 * The SSE stream engine of one API process (PROTOCOL §4). For each stream: headers and `retry:` at
 * once, the resume → live handoff, then live events. Per session, one broker subscription and one
 * shared catch-up read at a time; per process, one heartbeat timer and one batched `getHeads` per
 * sync round. Delivery guarantee: every event after the cursor, in seq order, once per
 * connection, except ranges announced by `gap`; lost hints are repaired from the log.
 */
export class StreamHub {
  private readonly fanouts = new Map<string, SessionFanout>();
  private readonly streams = new Set<HubStream>();
  private readonly releases = new Set<Promise<void>>();
  private readonly scheduler = new FlushScheduler();
  private readonly metrics: StreamMetrics;
  private readonly log: HubLog;
  private readonly pageSize: number;
  private readonly heads: HeadLoader;
  private readonly heartbeatTimer: NodeJS.Timeout;
  private readonly syncTimer: NodeJS.Timeout;
  private round: Promise<void> | undefined;
  private nextRound: Promise<void> | undefined;
  private draining = false;
  private closed = false;

  constructor(private readonly options: StreamHubOptions) {
    for (const key of [
      'maxReplayGap',
      'syncIntervalMs',
      'heartbeatMs',
      'maxBufferBytes',
    ] as const) {
      if (!(options[key] > 0)) throw new Error(`StreamHub: ${key} must be a positive number`);
    }
    this.metrics = options.metrics ?? NOOP_STREAM_METRICS;
    this.log = options.log ?? consoleLog;
    // A read never returns more than the cap allows a resume or catch-up to deliver.
    this.pageSize = Math.min(options.pageSize ?? 500, options.maxReplayGap);
    this.heads = new HeadLoader(options.history);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), options.heartbeatMs).unref();
    this.syncTimer = setInterval(() => void this.syncNow(), options.syncIntervalMs).unref();
    options.broker.onResubscribe(() => {
      if (!this.closed) void this.syncNow();
    });
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /**
   * The head to serve a stream of the session from `cursor`, or undefined when the session does not
   * exist (404). When this node already follows the session (its subscription is up) and the
   * cursor is not above the head it knows, that head is returned without a query: it can only lag
   * the log, never lead it, so a decision on it stays sound (a gap announced on it is real and the
   * stream catches up after it; ENDED is final). Otherwise the head comes from one batched
   * `getHeads` shared with the lookups waiting alongside it.
   */
  resolveHead(sessionId: string, cursor: number): Promise<SessionHead | undefined> {
    const fanout = this.fanouts.get(sessionId);
    if (fanout?.isReady && cursor <= fanout.head.headSeq)
      return Promise.resolve({ ...fanout.head });
    return this.heads.load(sessionId);
  }

  /**
   * Serves one SSE request on a raw Node response. The caller has already looked the session up
   * (404, see {@link resolveHead}) and authenticated. `head` is the session's head at lookup. Resolves when the stream closes.
   */
  async serve(req: IncomingMessage, res: ServerResponse, params: ServeParams): Promise<void> {
    const { sessionId, cursor, head } = params;
    if (head.state === 'ENDED' && cursor === head.headSeq) {
      res.writeHead(204, { 'Cache-Control': 'no-cache' });
      res.end();
      return;
    }
    req.socket?.setNoDelay(true);
    res.writeHead(200, SSE_HEADERS);
    if (this.draining || this.closed) {
      res.end(encodeRetry(jitterMs()));
      return;
    }
    res.write(encodeRetry(this.options.retryMs ?? 1000));
    this.metrics.streamOpened();
    const fanout = this.fanoutFor(sessionId, head);
    const stream = new HubStream(fanout, res, cursor, {
      metrics: this.metrics,
      scheduler: this.scheduler,
      maxReplayGap: this.options.maxReplayGap,
      maxBufferBytes: this.options.maxBufferBytes,
      pageSize: this.pageSize,
    });
    fanout.members.add(stream);
    this.streams.add(stream);
    const closed = stream.connection.closed.then(() => this.detach(stream));
    try {
      await fanout.ready;
      if (stream.connection.isOpen) {
        const result = await stream.handoff.run();
        this.metrics.resume(result.outcome);
        this.metrics.replayedEvents(result.replayed);
        fanout.afterResume(stream);
      }
    } catch (error) {
      this.log.error({ err: error, sessionId, cursor }, 'stream resume failed; closing the stream');
      stream.connection.destroy();
    }
    await closed;
  }

  /**
   * One sync round now: one batched `getHeads` for every locally streamed session, then a shared
   * catch-up for each session whose live streams are behind and whose state calls for it. Rounds
   * never overlap; a request during a round runs one more round after it.
   */
  syncNow(): Promise<void> {
    if (!this.round) {
      this.round = this.syncRound().finally(() => {
        this.round = undefined;
      });
      return this.round;
    }
    this.nextRound ??= this.round.then(() => {
      this.nextRound = undefined;
      return this.syncNow();
    });
    return this.nextRound;
  }

  /**
   * SIGTERM: refuses nothing here (the API answers new streams 503), sends every open stream a
   * `retry:` of random 0–1000 ms and closes them spread over `durationMs`; resolves when all closed.
   * A stream that cannot take its last bytes is destroyed shortly after `durationMs`.
   */
  async drain(durationMs: number): Promise<void> {
    this.draining = true;
    const streams = [...this.streams];
    const timers = streams.map((stream, index) => {
      stream.send(Buffer.from(encodeRetry(jitterMs())));
      const delay = (durationMs * index) / streams.length;
      return setTimeout(() => stream.connection.end(), delay);
    });
    const deadline = setTimeout(() => {
      for (const stream of streams) stream.connection.destroy();
    }, durationMs + 2000);
    await Promise.all(streams.map((stream) => stream.connection.closed));
    clearTimeout(deadline);
    for (const timer of timers) clearTimeout(timer);
  }

  /** Stops timers, closes every stream and unsubscribes everything (tests, shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.syncTimer);
    const streams = [...this.streams];
    for (const stream of streams) stream.connection.destroy();
    await Promise.all(streams.map((stream) => stream.connection.closed));
    await Promise.allSettled([...this.releases, this.round]);
    this.scheduler.cancel();
  }

  private fanoutFor(sessionId: string, head: SessionHead): SessionFanout {
    const existing = this.fanouts.get(sessionId);
    if (existing) {
      existing.noteHead(head);
      return existing;
    }
    const fanout = new SessionFanout(sessionId, head, {
      broker: this.options.broker,
      history: this.options.history,
      metrics: this.metrics,
      log: this.log,
      maxReplayGap: this.options.maxReplayGap,
      pageSize: this.pageSize,
      tailCacheBytes: this.options.tailCacheBytes ?? DEFAULT_TAIL_CACHE_BYTES,
    });
    this.fanouts.set(sessionId, fanout);
    return fanout;
  }

  private detach(stream: HubStream): void {
    if (!this.streams.delete(stream)) return;
    stream.handoff.abort();
    this.metrics.streamClosed();
    const { fanout } = stream;
    fanout.members.delete(stream);
    if (fanout.members.size > 0 || this.fanouts.get(fanout.sessionId) !== fanout) return;
    this.fanouts.delete(fanout.sessionId);
    const release = fanout
      .release()
      .catch((error: unknown) =>
        this.log.warn({ err: error, sessionId: fanout.sessionId }, 'unsubscribe failed'),
      )
      .finally(() => this.releases.delete(release));
    this.releases.add(release);
  }

  private async syncRound(): Promise<void> {
    const ids = [...this.fanouts.keys()];
    if (ids.length === 0 || this.closed) return;
    let heads: Map<string, SessionHead>;
    try {
      heads = await this.options.history.getHeads(ids);
    } catch (error) {
      this.log.error(
        { err: error, sessions: ids.length },
        'sync round failed; retrying next round',
      );
      return;
    }
    this.metrics.syncRound();
    for (const id of ids) {
      const fanout = this.fanouts.get(id);
      const head = heads.get(id);
      if (!fanout || !head) continue;
      if (fanout.applySync(head)) this.metrics.syncCatchUp();
    }
  }

  private heartbeat(): void {
    for (const fanout of this.fanouts.values()) {
      if (fanout.members.size === 0) continue;
      const frame = fanout.heartbeatFrame();
      for (const member of fanout.members) member.send(frame);
    }
  }
}

function jitterMs(): number {
  return Math.floor(Math.random() * 1001);
}
