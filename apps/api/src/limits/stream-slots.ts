import { ApiProblem } from '../errors/problem';
import type { LimitName } from './limit-metrics';

/** Seconds a refused stream is told to wait: a slot frees when another stream closes. */
export const STREAM_RETRY_AFTER_SECONDS = 5;

export interface StreamSlotLimits {
  maxStreamsPerSession: number;
  maxStreamsPerCredential: number;
}

/**
 * Counts the streams open on this node per session and per credential and refuses one past
 * either cap with 429 `rate_limited`. Counts are per node, not cluster-wide: a stream holds a
 * slot only while its connection is open here, so a node that dies can leave no count behind.
 */
export class StreamSlots {
  private readonly perSession = new Map<string, number>();
  private readonly perCredential = new Map<string, number>();

  constructor(
    private readonly limits: StreamSlotLimits,
    private readonly onLimited: (limit: LimitName) => void = () => {},
  ) {}

  /**
   * Takes a slot for a stream of `sessionId` opened with `credential`, or throws the 429. The
   * stream gives it back with {@link give} when it closes.
   */
  take(sessionId: string, credential: string): void {
    if ((this.perSession.get(sessionId) ?? 0) >= this.limits.maxStreamsPerSession) {
      throw this.refusal(
        'streams_per_session',
        `${this.limits.maxStreamsPerSession} streams of this session are open`,
      );
    }
    if ((this.perCredential.get(credential) ?? 0) >= this.limits.maxStreamsPerCredential) {
      throw this.refusal(
        'streams_per_credential',
        `${this.limits.maxStreamsPerCredential} streams of this credential are open`,
      );
    }
    increment(this.perSession, sessionId);
    increment(this.perCredential, credential);
  }

  /** Gives back a slot {@link take} took. */
  give(sessionId: string, credential: string): void {
    decrement(this.perSession, sessionId);
    decrement(this.perCredential, credential);
  }

  /**
   * {@link take}, returning a function that gives the slot back; calling it more than once gives
   * back nothing more.
   */
  acquire(sessionId: string, credential: string): () => void {
    this.take(sessionId, credential);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.give(sessionId, credential);
    };
  }

  /** Sessions and credentials holding at least one slot. */
  get size(): { sessions: number; credentials: number } {
    return { sessions: this.perSession.size, credentials: this.perCredential.size };
  }

  private refusal(limit: LimitName, detail: string): ApiProblem {
    this.onLimited(limit);
    return new ApiProblem(
      'rate_limited',
      `${detail} on this node; close one or retry later`,
      { 'Retry-After': String(STREAM_RETRY_AFTER_SECONDS) },
      { expected: 'info' },
    );
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}
