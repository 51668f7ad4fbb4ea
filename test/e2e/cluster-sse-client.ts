import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { sleep } from '../process';

const CONTROL_EVENTS = new Set(['live', 'heartbeat', 'end', 'gap']);

/**
 * A bare SSE client for end-to-end tests (raw fetch + eventsource-parser), reconnecting with
 * `Last-Event-ID` like a browser's EventSource. It records every stored event's seq exactly as
 * received, without deduplicating, so a test can compare them with the log.
 */
export class ReconnectingSseClient {
  /** Seqs of stored events in arrival order, across every connection. */
  readonly seqs: number[] = [];
  readonly gaps: unknown[] = [];
  /** Statuses and errors that made it reconnect. */
  readonly interruptions: string[] = [];
  /** Frames that broke the protocol (an id that is not the event's seq, another session). */
  readonly violations: string[] = [];
  connections = 0;
  ended = false;
  private lastEventId?: string;
  private retryMs = 1000;
  private readonly abort = new AbortController();

  constructor(
    private readonly baseUrl: string,
    readonly sessionId: string,
    private readonly maxRetryMs = 1000,
  ) {}

  /** Streams until the server sends `end` (or 204), or {@link stop} is called. */
  async run(): Promise<void> {
    while (!this.ended && !this.abort.signal.aborted) {
      try {
        await this.connectOnce();
      } catch (error) {
        if (this.abort.signal.aborted) break;
        this.interruptions.push(String((error as Error).cause ?? (error as Error).message));
      }
      if (!this.ended) await sleep(Math.min(this.retryMs, this.maxRetryMs) + Math.random() * 50);
    }
  }

  stop(): void {
    this.abort.abort();
  }

  private async connectOnce(): Promise<void> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
    const response = await fetch(`${this.baseUrl}/v1/sessions/${this.sessionId}/stream`, {
      headers,
      signal: this.abort.signal,
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
    const parser = createParser({
      onEvent: (message) => this.onEvent(message),
      onRetry: (ms) => (this.retryMs = ms),
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    while (!this.ended) {
      const { value, done } = await reader.read();
      if (done) {
        this.interruptions.push('closed by server');
        return;
      }
      parser.feed(decoder.decode(value, { stream: true }));
    }
    await reader.cancel();
  }

  private onEvent(message: EventSourceMessage): void {
    if (message.event === 'end') this.ended = true;
    if (message.event === 'gap') this.gaps.push(JSON.parse(message.data));
    if (message.id !== undefined) this.lastEventId = message.id;
    if (CONTROL_EVENTS.has(message.event ?? '')) return;
    const event = JSON.parse(message.data) as { seq: number; sessionId: string };
    if (String(event.seq) !== message.id || event.sessionId !== this.sessionId) {
      this.violations.push(`frame id ${message.id} carries ${message.data}`);
    }
    this.seqs.push(event.seq);
  }
}
