import { encodeControlFrame } from '../protocol';
import { ResumeHandoff } from './resume-handoff';
import type { FanoutMember, SessionFanout } from './session-fanout';
import { SseConnection, type FlushScheduler } from './sse-connection';
import type { StreamMetrics } from './stream-metrics';
import type { ServerResponse } from 'node:http';

export interface HubStreamDeps {
  metrics: StreamMetrics;
  scheduler: FlushScheduler;
  maxReplayGap: number;
  maxBufferBytes: number;
  pageSize: number;
}

/** One open stream: its connection, its handoff, and the `end` decision. */
export class HubStream implements FanoutMember {
  readonly connection: SseConnection;
  readonly handoff: ResumeHandoff;
  private ended = false;

  constructor(
    readonly fanout: SessionFanout,
    res: ServerResponse,
    cursor: number,
    deps: HubStreamDeps,
  ) {
    const { sessionId } = fanout;
    this.connection = new SseConnection(res, {
      maxBufferBytes: deps.maxBufferBytes,
      scheduler: deps.scheduler,
      metrics: deps.metrics,
      extraBytes: () => this.handoff.pendingBytes,
    });
    this.handoff = new ResumeHandoff({
      sessionId,
      cursor,
      maxReplayGap: deps.maxReplayGap,
      pageSize: deps.pageSize,
      head: () => fanout.head,
      // Shared with the session's other streams: tail cache, then one query per identical read.
      read: (afterSeq, limit) => fanout.read(afterSeq, limit),
      sink: {
        // Publish-to-write latency is measured for live events only, not for replayed history.
        event: (event) =>
          this.connection.send(event.frame, this.handoff.isLive ? event.createdAtMs : undefined),
        control: (frame) => {
          if (frame.event === 'gap') deps.metrics.gapSent();
          this.connection.send(Buffer.from(encodeControlFrame(frame)));
        },
      },
    });
  }

  send(frame: Buffer): void {
    this.connection.send(frame);
  }

  settle(): void {
    if (this.ended || !this.connection.checkBuffer()) return;
    if (this.handoff.isLive && this.fanout.isEndedAt(this.handoff.sentSeq)) {
      this.ended = true;
      const headSeq = this.handoff.sentSeq;
      this.connection.send(
        Buffer.from(
          encodeControlFrame({ event: 'end', data: { sessionId: this.fanout.sessionId, headSeq } }),
        ),
      );
      this.connection.end();
    }
  }
}
