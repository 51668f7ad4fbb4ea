import calculateSlot from 'cluster-key-slot';
import type { StoredEvent } from '../protocol';

export type Unsubscribe = () => Promise<void>;
/**
 * Receives a channel's payloads: a function, or an object whose `onMessage` is called. An object
 * lets a long-lived subscriber (a session's fan-out) listen as itself, with no bound closure.
 */
export type BrokerListener = ((payload: string) => void) | { onMessage(payload: string): void };

/**
 * A pub/sub bus that carries hints between processes. Delivery is at-most-once: a message may be
 * lost (disconnects, restarts), never reordered within one publisher's channel. Consumers treat
 * every message as a hint and recover from the Postgres log by position.
 *
 * Publish only after the transaction that wrote the events has committed.
 */
export interface Broker {
  /** Fire-and-forget: a failure is reported through the broker's error callback, never thrown. */
  publish(channel: string, payload: string): Promise<void>;
  /**
   * Adds a listener. Channels are reference-counted: the first listener subscribes upstream, the
   * last unsubscribe releases it.
   */
  subscribe(channel: string, listener: BrokerListener): Promise<Unsubscribe>;
  /**
   * Removes one registration of `listener` from `channel` (what calling the function `subscribe`
   * returned does, for a subscriber that keeps no such function); the last one releases it upstream.
   */
  unsubscribe(channel: string, listener: BrokerListener): Promise<void>;
  /**
   * Called after the upstream connection was lost and restored: anything published meanwhile was
   * lost, so consumers should re-read what they follow.
   */
  onResubscribe(listener: () => void): void;
  close(): Promise<void>;
}

export const BROKER = Symbol('BROKER');

/**
 * What `subscribe` returns: removes this one registration, once (the same listener may hold
 * another subscription of the channel).
 */
export function unsubscribeOnce(
  broker: Pick<Broker, 'unsubscribe'>,
  channel: string,
  listener: BrokerListener,
): Unsubscribe {
  let held = true;
  return async () => {
    if (!held) return;
    held = false;
    await broker.unsubscribe(channel, listener);
  };
}

/**
 * Channel of a session's hints (`SessionHint`). The session id is a Redis Cluster hash tag, so
 * every channel of one session hashes to one slot (sharded pub/sub needs that) and sessions spread
 * over all shards.
 */
export function sessionChannel(sessionId: string): string {
  return `session:{${sessionId}}`;
}

/** Hash slots of a Redis Cluster. */
const SLOTS = 16384;

/** Number of work-hint channels: workers subscribe to all of them, the API publishes on one. */
export const WORK_CHANNEL_COUNT = 32;

/**
 * The work-hint channels (`WorkHint`), hash-tagged so that their slots lie evenly over the 16384
 * hash slots: on a Redis Cluster they spread over every shard instead of loading one.
 */
export const WORK_CHANNELS: readonly string[] = spreadOverSlots(WORK_CHANNEL_COUNT).map(
  (tag) => `work:{${tag}}`,
);

/** The work channel of a session's hints: always the same one, so they stay in order. */
export function workChannel(sessionId: string): string {
  return WORK_CHANNELS[calculateSlot(sessionId) % WORK_CHANNELS.length];
}

/** `count` short hash tags whose slots fall one in each of `count` equal slot ranges. */
function spreadOverSlots(count: number): string[] {
  const tags: (string | undefined)[] = new Array<string | undefined>(count);
  let found = 0;
  for (let n = 0; found < count; n++) {
    const bucket = Math.floor((calculateSlot(String(n)) * count) / SLOTS);
    if (tags[bucket] === undefined) {
      tags[bucket] = String(n);
      found++;
    }
  }
  return tags as string[];
}

/**
 * Published on {@link sessionChannel} after events were committed. `events` carries them when the
 * payload is small (the API node then needs no read); otherwise only `headSeq` tells how far to read.
 */
export interface SessionHint {
  sessionId: string;
  headSeq: number;
  events?: StoredEvent[];
}

/** Published on {@link workChannel}: new input to claim, or an interrupt of a running turn. */
export type WorkHint =
  | { kind: 'input'; sessionId: string }
  | { kind: 'interrupt'; sessionId: string; turnId: string }
  | { kind: 'end'; sessionId: string };

/** Largest hint payload that carries events inline (bytes of JSON); larger hints carry heads only. */
export const MAX_INLINE_HINT_BYTES = 64 * 1024;

/** Publishes a work hint on its session's work channel. */
export async function publishWork(broker: Broker, hint: WorkHint): Promise<void> {
  await broker.publish(workChannel(hint.sessionId), JSON.stringify(hint));
}

/**
 * Subscribes one listener to every work channel (what a worker does: it must see the hints of all
 * sessions). Resolves once all are live; the returned function unsubscribes from all.
 */
export async function subscribeWork(
  broker: Broker,
  listener: BrokerListener,
): Promise<Unsubscribe> {
  const subscribed = await Promise.allSettled(
    WORK_CHANNELS.map((c) => broker.subscribe(c, listener)),
  );
  const unsubscribes = subscribed.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = subscribed.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(unsubscribes.map((u) => u()));
    throw (failed as PromiseRejectedResult).reason;
  }
  return async () => {
    await Promise.all(unsubscribes.map((u) => u()));
  };
}

/** Builds the payload of a {@link SessionHint} for events just committed. */
export function encodeSessionHint(sessionId: string, events: readonly StoredEvent[]): string {
  const headSeq = events.length ? events[events.length - 1].seq : 0;
  const full = JSON.stringify({ sessionId, headSeq, events });
  if (full.length <= MAX_INLINE_HINT_BYTES) return full;
  return JSON.stringify({ sessionId, headSeq });
}

/** Publishes committed events as hints: one message per session. */
export async function publishEvents(broker: Broker, events: readonly StoredEvent[]): Promise<void> {
  const bySession = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const list = bySession.get(event.sessionId) ?? [];
    list.push(event);
    bySession.set(event.sessionId, list);
  }
  await Promise.all(
    [...bySession].map(([id, list]) =>
      broker.publish(sessionChannel(id), encodeSessionHint(id, list)),
    ),
  );
}

/** What a broker backed by Redis reports about itself (readiness probes and metrics). */
export interface BrokerStats {
  kind: 'redis' | 'redis-cluster';
  /** Connected, and (cluster) every slot served: `cluster_state:ok`. */
  up: boolean;
  /** Why `up` is false, for logs and the readiness answer. */
  problem?: string;
  /** `cluster_state` of a Redis Cluster: `ok`, or `fail` while some slot has no live master. */
  clusterState?: string;
  /** Masters in the slot map (cluster only). */
  masters?: number;
  /** Open subscriber connections (cluster: one per master that serves a subscribed channel). */
  subscriberConnections: number;
  /** Channels subscribed upstream. */
  channels: number;
  /** Error events seen (connection errors included), whether or not they were logged. */
  errors: number;
  /** Times the subscriptions were restored after a loss (reconnect, failover, slot move). */
  resubscribes: number;
  /** Publishes that failed or timed out (the hint is lost; the periodic sync repairs it). */
  publishFailures: number;
}

/** A broker that can be probed: the Redis brokers. */
export interface ProbedBroker extends Broker {
  /** Resolves when Redis answers; rejects with the reason otherwise (readiness). */
  ping(waitMs?: number): Promise<void>;
  stats(): Promise<BrokerStats>;
}

export function isProbedBroker(broker: Broker): broker is ProbedBroker {
  const probed = broker as Partial<ProbedBroker>;
  return typeof probed.ping === 'function' && typeof probed.stats === 'function';
}
