import { shouldSync, type SessionState } from '../protocol';
import { sessionChannel, type Broker, type SessionHint } from './broker';
import { encodeEvent, type EncodedEvent } from './encoded-event';
import type { HistoryReader, SessionHead } from './history';
import { KnownHead } from './known-head';
import { readPages } from './read-pages';
import type { HandoffSource, ReadPage } from './resume-handoff';
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
  /** Events per history read. */
  pageSize: number;
  /** Byte bound of the session's tail cache (its count bound is `pageSize`). */
  tailCacheBytes: number;
}

/**
 * A local stream of a session, as the fan-out sees it: the fan-out offers it events and pages and
 * tells it when the head moved; the stream applies its own rules (resume state, cap, end).
 */
export interface FanoutMember {
  /** Live events from a hint, ascending. */
  offer(events: readonly EncodedEvent[]): void;
  /** A page of a catch-up read shared by the session's streams. */
  takeShared(page: ReadPage): void;
  /** The seq the stream needs the log read after to reach `headSeq`, or undefined (see ResumeHandoff). */
  catchUpFrom(headSeq: number): number | undefined;
  isBehind(headSeq: number): boolean;
  /** The head moved without events reaching the stream (a sync round, a resume's end). */
  settle(): void;
  heartbeat(head: SessionHead): void;
}

interface LogRead {
  /** Head known when the query was issued: the page holds the log at least up to it. */
  headSeq: number;
  events: Promise<readonly EncodedEvent[]>;
}

/**
 * All local streams of one session: one broker subscription, one known head, and at most one
 * history read in flight for live streams that fell behind (a missed hint or a sync round), shared
 * by all of them. Each event received or read here is encoded once for every stream. The member
 * set is private: streams join and leave through {@link add} and {@link remove}.
 *
 * Reads are shared too: {@link read} serves from a {@link TailCache} of the session's recent events
 * (fed by every hint and read seen here) when it can answer exactly as the log would up to the
 * known head, and identical reads in flight share one query, provided it was issued once the
 * caller's head was known (so a page never predates the head it is judged against).
 */
export class SessionFanout implements HandoffSource {
  readonly head: KnownHead;
  /** One member held as itself, several in a Set (most sessions have one stream per node). */
  private members: FanoutMember | Set<FanoutMember> | undefined;
  /** While subscribing, or after subscribing failed; undefined once subscribed. */
  private subscription: Promise<unknown> | undefined;
  private subscribed = false;
  private stateLastRound: SessionState;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private repairingMiss = false;
  /** Made with the first events seen. */
  private cache: TailCache | undefined;
  private reads: Map<number, LogRead> | undefined;

  constructor(
    readonly sessionId: string,
    head: SessionHead,
    private readonly deps: FanoutDeps,
  ) {
    this.head = new KnownHead(head);
    this.stateLastRound = head.state;
    // The fan-out listens as itself (see onMessage): no closure or bound function per session,
    // and release() takes the registration back by the same identity.
    const subscription = deps.broker.subscribe(sessionChannel(sessionId), this);
    this.subscription = subscription;
    subscription.then(
      () => {
        this.subscribed = true;
        this.subscription = undefined;
      },
      () => undefined, // reported by whoever awaits it (a resume, or release)
    );
  }

  get pageSize(): number {
    return this.deps.pageSize;
  }

  /** True once the session's channel is subscribed: from then on the head learns from hints. */
  get isReady(): boolean {
    return this.subscribed;
  }

  /** Resolves once the channel is subscribed upstream (rejects when subscribing failed). */
  whenSubscribed(): Promise<unknown> {
    return this.subscription ?? Promise.resolve();
  }

  get size(): number {
    const { members } = this;
    if (members === undefined) return 0;
    return members instanceof Set ? members.size : 1;
  }

  add(member: FanoutMember): void {
    const { members } = this;
    if (members === undefined) this.members = member;
    else if (members instanceof Set) members.add(member);
    else if (members !== member) this.members = new Set([members, member]);
  }

  /** Returns true when the last member left. */
  remove(member: FanoutMember): boolean {
    const { members } = this;
    if (members === member) {
      this.members = undefined;
      return true;
    }
    if (!(members instanceof Set) || !members.delete(member)) return false;
    if (members.size === 1) this.members = members.values().next().value;
    return false;
  }

  read(afterSeq: number): Promise<ReadPage> {
    const { pageSize } = this.deps;
    const headSeq = this.head.headSeq;
    const cached = this.cache?.slice(afterSeq, pageSize);
    if (cached && (cached.length === pageSize || (this.cache?.to ?? 0) >= headSeq)) {
      return Promise.resolve({ afterSeq, headSeq, events: cached });
    }
    return this.readLog(afterSeq, headSeq).then((events) => ({ afterSeq, headSeq, events }));
  }

  /** One heartbeat to every member, with one snapshot of the head. */
  heartbeat(): void {
    if (this.members === undefined) return;
    const head = this.head.snapshot();
    for (const member of this.each()) member.heartbeat(head);
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
    this.head.merge(head);
    const due = shouldSync(head.state) || head.state !== this.stateLastRound;
    this.stateLastRound = head.state;
    const behind = due && this.hasLiveMemberBehind();
    if (behind) this.requestCatchUp(false);
    for (const member of this.each()) member.settle();
    return behind;
  }

  /** Unsubscribes (call once the last member left). */
  async release(): Promise<void> {
    try {
      await this.subscription;
    } catch (error) {
      this.deps.log.warn(
        { err: error, sessionId: this.sessionId },
        'session subscription had failed',
      );
      return;
    }
    await this.deps.broker.unsubscribe(sessionChannel(this.sessionId), this);
  }

  private readLog(afterSeq: number, headSeq: number): Promise<readonly EncodedEvent[]> {
    const reads = (this.reads ??= new Map());
    const inFlight = reads.get(afterSeq);
    if (inFlight && inFlight.headSeq >= headSeq) return inFlight.events;
    const read: LogRead = {
      headSeq,
      events: this.deps.history
        .getEventsAfter(this.sessionId, afterSeq, this.deps.pageSize)
        .then((page) => {
          const events = page.map(encodeEvent);
          this.head.learn(events);
          if (events.length > 0) this.tail().addRead(events);
          return events;
        })
        .finally(() => {
          if (reads.get(afterSeq) === read) reads.delete(afterSeq);
          if (reads.size === 0 && this.reads === reads) this.reads = undefined;
        }),
    };
    reads.set(afterSeq, read);
    return read.events;
  }

  /** A hint on the session's channel, as the broker delivers it (the fan-out is the listener). */
  onMessage(payload: string): void {
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
    this.head.reach(hint.headSeq);
    if (events.length > 0) this.tail().addHinted(events);
    this.head.learn(events);
    for (const member of this.each()) member.offer(events);
    if (this.hasLiveMemberBehind()) {
      const missed = events.length > 0 && !this.reading;
      if (missed) this.deps.metrics.hintMissed();
      this.requestCatchUp(missed);
    }
  }

  private tail(): TailCache {
    this.cache ??= new TailCache({
      maxEvents: this.deps.pageSize,
      maxBytes: this.deps.tailCacheBytes,
    });
    return this.cache;
  }

  /** The members; one leaving (or joining) meanwhile is safe. */
  private *each(): Generator<FanoutMember> {
    const { members } = this;
    if (members instanceof Set) yield* members;
    else if (members !== undefined) yield members;
  }

  private hasLiveMemberBehind(): boolean {
    for (const member of this.each()) {
      if (member.isBehind(this.head.headSeq)) return true;
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

  /** Brings every live member to the head with shared reads; each member applies its own cap. */
  private async catchUp(): Promise<void> {
    do {
      this.readAgain = false;
      const target = this.head.headSeq;
      let from = Number.POSITIVE_INFINITY;
      for (const member of this.each()) {
        const after = member.catchUpFrom(target);
        if (after !== undefined && after < from) from = after;
      }
      if (from < target) {
        await readPages(
          from,
          target,
          this.deps.pageSize,
          (afterSeq) => this.read(afterSeq),
          (page) => this.share(page),
        );
      }
    } while (this.readAgain && this.members !== undefined);
    if (this.repairingMiss) {
      this.repairingMiss = false;
      this.deps.metrics.hintRepaired();
    }
  }

  /** Offers a shared page to every member; returns the seq to read after next. */
  private share(page: ReadPage): number | undefined {
    for (const member of this.each()) member.takeShared(page);
    if (this.members === undefined) return undefined;
    return page.events.at(-1)?.seq ?? page.afterSeq;
  }
}
