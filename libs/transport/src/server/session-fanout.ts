import { encodeControlFrame, shouldSync, type SessionState } from '../protocol';
import { sessionChannel, type Broker, type SessionHint, type Unsubscribe } from './broker';
import { encodeEvent, type EncodedEvent } from './encoded-event';
import type { HistoryReader, SessionHead } from './history';
import type { ResumeHandoff } from './resume-handoff';
import type { StreamMetrics } from './stream-metrics';
import { TailCache } from './tail-cache';

export interface HubLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface FanoutDeps {
  broker: Broker;
  history: HistoryReader;
  metrics: StreamMetrics;
  log: HubLog;
  maxReplayGap: number;
  pageSize: number;
  /** Byte bound of the session's tail cache (its count bound is `pageSize`). */
  tailCacheBytes: number;
}

/** A local stream of a session, as the fan-out sees it. */
export interface FanoutMember {
  readonly handoff: ResumeHandoff;
  /** Sends a frame (heartbeats). */
  send(frame: Buffer): void;
  /** Called after events or a newer head reached the session: sends `end` when it is due. */
  settle(): void;
}

/**
 * All local streams of one session: one broker subscription, one known head, and at most one
 * history read in flight for live streams that fell behind (a missed hint or a sync round), shared
 * by all of them. Each event received or read here is encoded once for every stream.
 *
 * Reads are shared too: {@link read} serves from a {@link TailCache} of the session's recent events
 * (fed by every hint and read seen here) when it can answer exactly as the log would up to the
 * known head, and identical reads in flight share one query.
 */
export class SessionFanout {
  readonly members = new Set<FanoutMember>();
  /** Resolves once the session's channel is subscribed upstream. */
  readonly ready: Promise<void>;
  private readonly subscription: Promise<Unsubscribe>;
  private current: SessionHead;
  /** Seq at which `current.state` was observed (state only moves forward with seq). */
  private stateSeq: number;
  private stateLastRound: SessionState;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private repairingMiss = false;
  private subscribed = false;
  private readonly cache: TailCache;
  private readonly reads = new Map<string, Promise<readonly EncodedEvent[]>>();

  constructor(
    readonly sessionId: string,
    head: SessionHead,
    private readonly deps: FanoutDeps,
  ) {
    this.current = { ...head };
    this.stateSeq = head.headSeq;
    this.stateLastRound = head.state;
    this.subscription = deps.broker.subscribe(sessionChannel(sessionId), (payload) =>
      this.onHint(payload),
    );
    this.ready = this.subscription.then(() => {
      this.subscribed = true;
    });
    this.cache = new TailCache({ maxEvents: deps.pageSize, maxBytes: deps.tailCacheBytes });
  }

  /** True once the session's channel is subscribed: from then on the head learns from hints. */
  get isReady(): boolean {
    return this.subscribed;
  }

  get head(): SessionHead {
    return this.current;
  }

  /** True when the session is ENDED and `seq` is its head: the stream owes nothing more. */
  isEndedAt(seq: number): boolean {
    return this.current.state === 'ENDED' && seq >= this.current.headSeq;
  }

  /** Merges a head read elsewhere (a lookup or a sync round); never moves backwards. */
  noteHead(head: SessionHead): void {
    if (head.headSeq >= this.current.headSeq) this.current.activity = head.activity;
    if (head.headSeq > this.current.headSeq) this.current.headSeq = head.headSeq;
    if (head.headSeq >= this.stateSeq) {
      this.current.state = head.state;
      this.stateSeq = head.headSeq;
    }
  }

  /** Learns head and state from events passing through (hints, reads). */
  noteEvents(events: readonly EncodedEvent[]): void {
    for (const event of events) {
      if (event.seq > this.current.headSeq) this.current.headSeq = event.seq;
      if (event.toState && event.seq > this.stateSeq) {
        this.current.state = event.toState;
        this.stateSeq = event.seq;
      }
    }
  }

  /**
   * Up to `limit` events with `seq > afterSeq`, ascending and gap-free, as `getEventsAfter` would
   * return them. Served from the tail cache when it holds `afterSeq + 1` onwards and either `limit`
   * events or everything up to the known head (so a short page still means "nothing more up to the
   * head", as from the log); otherwise read from the log, one query per distinct `(afterSeq, limit)`
   * in flight, and the page feeds the cache and the known head.
   */
  read(afterSeq: number, limit: number): Promise<readonly EncodedEvent[]> {
    const cached = this.cache.slice(afterSeq, limit);
    if (cached && (cached.length === limit || (this.cache.to ?? 0) >= this.current.headSeq)) {
      return Promise.resolve(cached);
    }
    const key = `${afterSeq}:${limit}`;
    let pending = this.reads.get(key);
    if (!pending) {
      pending = this.deps.history
        .getEventsAfter(this.sessionId, afterSeq, limit)
        .then((page) => {
          const events = page.map(encodeEvent);
          this.noteEvents(events);
          this.cache.addRead(events);
          return events;
        })
        .finally(() => this.reads.delete(key));
      this.reads.set(key, pending);
    }
    return pending;
  }

  /** One frame for all members, encoded once. */
  heartbeatFrame(): Buffer {
    const { headSeq, state, activity } = this.current;
    return Buffer.from(
      encodeControlFrame({ event: 'heartbeat', data: { headSeq, state, activity } }),
    );
  }

  /**
   * After a member went live: catch up every live member behind the head (the head may have moved
   * past what the resume read, or the resume's reads revealed events whose hints were lost).
   */
  afterResume(member: FanoutMember): void {
    member.settle();
    if (this.hasLiveMemberBehind()) this.requestCatchUp(false);
  }

  /**
   * A sync round's head. Streams behind are caught up only if the session may still grow on its
   * own (`shouldSync`) or its state changed since the previous round. The latter gives a session
   * that left CREATED/STARTING/ACTIVE its one final catch-up (the last `session.state` and
   * `turn.completed` arrive), and also ends streams of a SUSPENDED or DETACHED session whose
   * `end` hint was lost. Sessions resting in one state cost no read beyond the batched query.
   */
  applySync(head: SessionHead): boolean {
    this.noteHead(head);
    const due = shouldSync(head.state) || head.state !== this.stateLastRound;
    this.stateLastRound = head.state;
    const behind = due && this.hasLiveMemberBehind();
    if (behind) this.requestCatchUp(false);
    for (const member of this.members) member.settle();
    return behind;
  }

  /** Unsubscribes (call once the last member left). */
  async release(): Promise<void> {
    let unsubscribe: Unsubscribe;
    try {
      unsubscribe = await this.subscription;
    } catch (error) {
      this.deps.log.warn(
        { err: error, sessionId: this.sessionId },
        'session subscription had failed',
      );
      return;
    }
    await unsubscribe();
  }

  private onHint(payload: string): void {
    let hint: SessionHint;
    try {
      hint = JSON.parse(payload) as SessionHint;
    } catch (error) {
      this.deps.log.warn({ err: error, sessionId: this.sessionId }, 'malformed session hint');
      return;
    }
    if (typeof hint.headSeq !== 'number') {
      this.deps.log.warn({ sessionId: this.sessionId }, 'session hint without headSeq');
      return;
    }
    const events = Array.isArray(hint.events) ? hint.events.map(encodeEvent) : [];
    if (hint.headSeq > this.current.headSeq) this.current.headSeq = hint.headSeq;
    this.cache.addHinted(events);
    this.deliver(events);
    if (this.hasLiveMemberBehind()) {
      const missed = events.length > 0 && !this.reading;
      if (missed) this.deps.metrics.hintMissed();
      this.requestCatchUp(missed);
    }
  }

  private deliver(events: readonly EncodedEvent[]): void {
    this.noteEvents(events);
    for (const member of this.members) {
      member.handoff.offer(events);
      member.settle();
    }
  }

  private hasLiveMemberBehind(): boolean {
    for (const member of this.members) {
      if (member.handoff.isBehind(this.current.headSeq)) return true;
    }
    return false;
  }

  private requestCatchUp(repairsMiss: boolean): void {
    if (repairsMiss) this.repairingMiss = true;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.catchUp()
      .catch((error: unknown) => {
        this.repairingMiss = false;
        this.deps.log.error(
          { err: error, sessionId: this.sessionId },
          'catch-up read failed; the next hint or sync round retries',
        );
      })
      .finally(() => {
        this.reading = undefined;
      });
  }

  /** Brings every live member to the head with shared reads; past the cap a member gets a gap. */
  private async catchUp(): Promise<void> {
    const { maxReplayGap, pageSize } = this.deps;
    do {
      this.readAgain = false;
      const target = this.current.headSeq;
      let from = Number.POSITIVE_INFINITY;
      for (const member of this.members) {
        const { handoff } = member;
        if (!handoff.isBehind(target)) continue;
        if (target - handoff.sentSeq > maxReplayGap) {
          handoff.skipTo(target);
          member.settle();
        } else {
          from = Math.min(from, handoff.sentSeq);
        }
      }
      while (from < target && this.members.size > 0) {
        const page = await this.read(from, pageSize);
        this.deliver(page);
        if (page.length < pageSize) break;
        from = page[page.length - 1].seq;
      }
    } while (this.readAgain && this.members.size > 0);
    if (this.repairingMiss) {
      this.repairingMiss = false;
      this.deps.metrics.hintRepaired();
    }
  }
}
