import type { Broker } from './broker';
import { Follower, type FollowerHost } from './follower';
import { HeadLoader } from './head-loader';
import type { HistoryReader, SessionHead } from './history';
import { SessionFanout, type FanoutDeps, type HubLog } from './session-fanout';
import { NOOP_STREAM_METRICS, type StreamMetrics } from './stream-metrics';
import type { FollowRequest, Following, StopReason, StreamSink } from './stream-sink';
import { DEFAULT_TAIL_CACHE_BYTES } from './tail-cache';

export interface StreamHubOptions {
  broker: Broker;
  history: HistoryReader;
  /** MAX_REPLAY_GAP: a resume or catch-up further behind gets one `gap` frame instead of events. */
  maxReplayGap: number;
  /** SYNC_INTERVAL_MS: period of the batched head check. */
  syncIntervalMs: number;
  /** HEARTBEAT_MS. */
  heartbeatMs: number;
  /**
   * STREAM_MAX_BUFFER_BYTES: a follower buffering more bytes of live events while it resumes is
   * stopped (`overflow`). Front ends bound their own unsent bytes with the same figure.
   */
  maxBufferBytes: number;
  metrics?: StreamMetrics;
  log?: HubLog;
  /** Events per history read (default 500, at most `maxReplayGap`). */
  pageSize?: number;
  /** Byte bound of each session's tail cache of recent events (default 256 KiB). */
  tailCacheBytes?: number;
  /**
   * How long a resume waits for its session's channel to be subscribed (default 1000 ms). Past
   * that (Redis is away) it goes on: the periodic sync delivers, and when the subscription comes
   * through, the broker's resubscribe makes every session catch up.
   */
  subscribeWaitMs?: number;
}

const consoleLog: HubLog = {
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

/**
 * The stream engine of one API process (PROTOCOL §4), for any front end: {@link follow} delivers a
 * session's stream to a {@link StreamSink} — the resume → live handoff, then live events,
 * heartbeats and `end` — and the front end writes whatever bytes it speaks (SSE frames, AI SDK
 * chunks). Per session, one broker subscription and one shared catch-up read at a time; per
 * process, one heartbeat timer and one batched `getHeads` per sync round. Delivery guarantee: every
 * event after the cursor, in seq order, once per follower, except ranges announced by `gap`; lost
 * hints are repaired from the log.
 */
export class StreamHub {
  private readonly fanouts = new Map<string, SessionFanout>();
  private readonly followers = new Set<Follower>();
  private readonly releases = new Set<Promise<void>>();
  private readonly metrics: StreamMetrics;
  private readonly log: HubLog;
  private readonly deps: FanoutDeps;
  private readonly host: FollowerHost;
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
    this.deps = {
      broker: options.broker,
      history: options.history,
      metrics: this.metrics,
      log: this.log,
      // A read never returns more than the cap allows a resume or catch-up to deliver.
      pageSize: Math.min(options.pageSize ?? 500, options.maxReplayGap),
      tailCacheBytes: options.tailCacheBytes ?? DEFAULT_TAIL_CACHE_BYTES,
    };
    this.host = {
      metrics: this.metrics,
      maxBufferBytes: options.maxBufferBytes,
      leave: (follower) => this.leave(follower),
      forget: (follower) => {
        if (this.followers.delete(follower)) this.metrics.streamClosed();
      },
    };
    this.heads = new HeadLoader(options.history);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), options.heartbeatMs).unref();
    this.syncTimer = setInterval(() => void this.syncNow(), options.syncIntervalMs).unref();
    options.broker.onResubscribe(() => {
      if (!this.closed) void this.syncNow();
    });
  }

  /** Followers whose front end has not closed them yet. */
  get openStreams(): number {
    return this.followers.size;
  }

  /** False once the hub drains or closes: {@link follow} then stops a new follower at once. */
  get isAccepting(): boolean {
    return !this.draining && !this.closed;
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
    if (fanout?.isReady && cursor <= fanout.head.headSeq) {
      return Promise.resolve(fanout.head.snapshot());
    }
    return this.heads.load(sessionId);
  }

  /**
   * Follows one session for one client: everything after `request.cursor` to `sink`, in order (see
   * {@link StreamSink}), until the session ends at head, the engine stops the follower, or the
   * front end closes it. The caller has authenticated and looked the session up (404, see
   * {@link resolveHead}); a front end answers a cursor at the head of an ENDED session itself (see
   * `isEndedAt`: 204 for SSE). While the hub drains or after it closed, the follower is stopped at
   * once (`stopped` on the next microtask).
   */
  follow(request: FollowRequest, sink: StreamSink): Following {
    if (!this.isAccepting) return stoppedAtOnce(sink, this.closed ? 'shutdown' : 'drain');
    const { sessionId, cursor, head } = request;
    const fanout = this.fanoutFor(sessionId, head);
    const maxReplayGap = request.maxReplayGap ?? this.options.maxReplayGap;
    const follower = new Follower(
      this.host,
      fanout,
      sink,
      cursor,
      maxReplayGap,
      request.holdOnDrain,
    );
    fanout.add(follower);
    this.followers.add(follower);
    this.metrics.streamOpened();
    void this.resume(follower);
    return follower;
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
   * SIGTERM: stops the followers spread over `durationMs` (`stopped('drain')`: the front end sends
   * its reconnect hint and closes) and resolves once every front end closed. A follower still open
   * `durationMs` + 2 s later is stopped again with `shutdown` (close at once). A follower that
   * holds on drain is not stopped until that deadline.
   */
  async drain(durationMs: number): Promise<void> {
    this.draining = true;
    const followers = [...this.followers];
    const spread = followers.filter((follower) => !follower.holdOnDrain);
    const timers = spread.map((follower, index) =>
      setTimeout(() => follower.stop('drain'), (durationMs * index) / spread.length),
    );
    const deadline = setTimeout(() => {
      for (const follower of followers) follower.stop('shutdown');
    }, durationMs + 2000);
    await Promise.all(followers.map((follower) => follower.done));
    clearTimeout(deadline);
    for (const timer of timers) clearTimeout(timer);
  }

  /** Stops timers and every follower (`shutdown`), then unsubscribes everything (tests, shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.syncTimer);
    const followers = [...this.followers];
    for (const follower of followers) follower.stop('shutdown');
    await Promise.all(followers.map((follower) => follower.done));
    await Promise.allSettled([...this.releases, this.round]);
  }

  private async resume(follower: Follower): Promise<void> {
    const { fanout } = follower;
    try {
      await waitAtMost(fanout.whenSubscribed(), this.options.subscribeWaitMs ?? 1000);
      if (!follower.isOpen) return;
      const result = await follower.run();
      this.metrics.resume(result.outcome);
      this.metrics.replayedEvents(result.replayed);
      fanout.afterResume(follower);
    } catch (error) {
      const { sessionId } = fanout;
      this.log.error(
        { err: error, sessionId, cursor: follower.cursor },
        'stream resume failed; closing the stream',
      );
      follower.stop('failed', error);
    }
  }

  private fanoutFor(sessionId: string, head: SessionHead): SessionFanout {
    const existing = this.fanouts.get(sessionId);
    if (existing) {
      existing.head.merge(head);
      return existing;
    }
    const fanout = new SessionFanout(sessionId, head, this.deps);
    this.fanouts.set(sessionId, fanout);
    return fanout;
  }

  private leave(follower: Follower): void {
    const { fanout } = follower;
    if (!fanout.remove(follower) || this.fanouts.get(fanout.sessionId) !== fanout) return;
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
    for (const fanout of this.fanouts.values()) fanout.heartbeat();
  }
}

/** A follower that never started: `stopped(reason)` on the next microtask, already closed. */
function stoppedAtOnce(sink: StreamSink, reason: StopReason): Following {
  queueMicrotask(() => sink.stopped(reason));
  return { close: () => undefined, done: Promise.resolve() };
}

/** Resolves when `promise` settles or after `ms`, whichever comes first; rejects with it. */
async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
