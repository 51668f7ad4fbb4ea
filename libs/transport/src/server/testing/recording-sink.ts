import type { SessionHead } from '../history';
import type { EncodedEvent } from '../encoded-event';
import type { Following, StopReason, StreamControl, StreamSink } from '../stream-sink';

export type SinkEntry =
  | ['event', number]
  | ['gap', Extract<StreamControl, { event: 'gap' }>['data']]
  | ['live', number]
  | ['ended', number]
  | ['heartbeat', SessionHead]
  | ['stopped', StopReason];

/**
 * A {@link StreamSink} that records every call in order. Like a front end, it closes its
 * following once the stream ended or stopped (unless `closeOnFinish` is false).
 */
export class RecordingSink implements StreamSink {
  readonly entries: SinkEntry[] = [];
  readonly events: EncodedEvent[] = [];
  following?: Following;
  error: unknown;

  constructor(private readonly closeOnFinish = true) {}

  event(event: EncodedEvent): void {
    this.events.push(event);
    this.entries.push(['event', event.seq]);
  }
  control(frame: StreamControl): void {
    if (frame.event === 'gap') this.entries.push(['gap', frame.data]);
    else this.entries.push(['live', frame.data.headSeq]);
  }
  ended(headSeq: number): void {
    this.entries.push(['ended', headSeq]);
    if (this.closeOnFinish) queueMicrotask(() => this.following?.close());
  }
  heartbeat(head: SessionHead): void {
    this.entries.push(['heartbeat', head]);
  }
  stopped(reason: StopReason, error?: unknown): void {
    this.entries.push(['stopped', reason]);
    this.error = error;
    if (this.closeOnFinish) queueMicrotask(() => this.following?.close());
  }

  /** Seqs of the events received, in order. */
  get seqs(): number[] {
    return this.events.map((event) => event.seq);
  }

  /** The data of the entries of one kind, in order. */
  of<K extends SinkEntry[0]>(kind: K): Extract<SinkEntry, [K, unknown]>[1][] {
    const found: Extract<SinkEntry, [K, unknown]>[1][] = [];
    for (const entry of this.entries) {
      if (entry[0] === kind) found.push(entry[1] as Extract<SinkEntry, [K, unknown]>[1]);
    }
    return found;
  }
}
