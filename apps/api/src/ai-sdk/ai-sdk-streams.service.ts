import type { ServerResponse } from 'node:http';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  FlushScheduler,
  serveUiMessageStream,
  type UiStreamOptions,
} from '@sessionwire/transport/server';
import type { SessionHead } from '@sessionwire/transport/protocol';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG } from '../config/config.tokens';
import { StreamMetricsService } from '../health/stream-metrics.service';
import { StreamHubService } from '../streams/stream-hub.service';
import { StreamRoute, type AdmittedStream, type StreamFrontEnd } from '../streams/stream.route';
import { aiSdkStreamPathId } from './ai-sdk-path';
import { AiSdkService } from './ai-sdk.service';

/** Where a turn's UI message stream starts: after `cursor`, the turn answering `inputSeq` if set. */
export interface TurnStart {
  sessionId: string;
  cursor: number;
  inputSeq?: number;
}

/**
 * The AI SDK's UI message streams on this node's stream engine: the resume GET
 * (`GET /v1/ai-sdk/chat/:id/stream`, mounted on the {@link StreamRoute} beneath Express, with its
 * checks and log) and the chat POST's answer.
 */
@Injectable()
export class AiSdkStreams implements StreamFrontEnd, OnModuleInit {
  private readonly options: UiStreamOptions;
  private readonly logged: UiStreamOptions;

  constructor(
    private readonly hub: StreamHubService,
    private readonly route: StreamRoute,
    private readonly chat: AiSdkService,
    metrics: StreamMetricsService,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    this.options = {
      scheduler: new FlushScheduler(),
      metrics,
      maxBufferBytes: config.streamMaxBufferBytes,
    };
    this.logged = {
      ...this.options,
      onClose: (stream) =>
        this.route.logClosed(stream.response, stream.requestId ?? '', stream.startedAt),
    };
  }

  onModuleInit(): void {
    this.route.mount(this);
  }

  pathId(method: string, path: string): string | undefined {
    return aiSdkStreamPathId(method, path);
  }

  /** The resume: the running turn replayed from its `turn.started`, the waiting one, or 204. */
  async open(res: ServerResponse, admitted: AdmittedStream): Promise<boolean> {
    const { sessionId, headers } = admitted;
    const turn = await this.chat.currentTurn(sessionId);
    if (turn.turnId === null && !turn.waiting) {
      res.writeHead(204, { ...headers, 'Cache-Control': 'no-cache' });
      res.end();
      return false;
    }
    const cursor = turn.startedSeq !== undefined ? turn.startedSeq - 1 : turn.headSeq;
    return this.serve(res, { sessionId, cursor }, turn.head, admitted, this.logged);
  }

  /** The chat POST's answer: its message's turn (Nest logs the request itself). */
  async answer(res: ServerResponse, start: TurnStart): Promise<void> {
    const head = await this.hub.engine.resolveHead(start.sessionId, start.cursor);
    if (!head) throw new Error(`session ${start.sessionId} vanished`);
    await this.serve(res, start, head, undefined, this.options);
  }

  private serve(
    res: ServerResponse,
    start: TurnStart,
    head: SessionHead,
    admitted: AdmittedStream | undefined,
    options: UiStreamOptions,
  ): boolean {
    const stream = serveUiMessageStream(
      this.hub.engine,
      res,
      {
        ...start,
        head,
        headers: admitted?.headers,
        requestId: admitted?.requestId,
        startedAt: admitted?.startedAt,
      },
      options,
    );
    return stream !== undefined;
  }
}
