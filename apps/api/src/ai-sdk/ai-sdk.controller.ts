import { Body, Controller, Get, HttpCode, Post, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { InterruptAccepted } from '@sessionwire/transport/protocol';
import type { UiMessage } from '@sessionwire/transport/ai-sdk';
import type { Response } from 'express';
import { RequireAccess } from '../auth/access.decorator';
import { SessionId } from '../common/session-id.param';
import { ZodPipe } from '../common/zod.pipe';
import { ApiProblem } from '../errors/problem';
import { LifecycleService } from '../health/lifecycle.service';
import { ApiDoc } from '../openapi/api-doc.decorator';
import { chatRequestSchema, type ChatRequest } from './ai-sdk.schemas';
import { AiSdkService } from './ai-sdk.service';
import { AiSdkStreams } from './ai-sdk-streams.service';

const UI_STREAM_CONTENT = { 'text/event-stream': { schema: { type: 'string' } } };

/** The Vercel AI SDK's chat backend (PROTOCOL §9); the resume GET is served by {@link AiSdkStreams}. */
@ApiTags('ai-sdk')
@Controller('v1/ai-sdk/chat')
export class AiSdkController {
  constructor(
    private readonly chat: AiSdkService,
    private readonly streams: AiSdkStreams,
    private readonly lifecycle: LifecycleService,
  ) {}

  @Post()
  @RequireAccess('write', { sessionInBody: true })
  @ApiOperation({
    summary:
      "Send the chat's last message (idempotent by its id); answers its turn as a UI message stream",
  })
  @ApiDoc({
    body: 'ChatRequest',
    ok: [200, '', 'the turn as a UI message stream (x-vercel-ai-ui-message-stream: v1)'],
    okContent: UI_STREAM_CONTENT,
    auth: 'write',
    errors: [404, 409],
  })
  async send(
    @Body(new ZodPipe(chatRequestSchema, 'body')) body: ChatRequest,
    @Res() res: Response,
  ): Promise<void> {
    if (this.lifecycle.draining) {
      throw new ApiProblem('unavailable', 'this node is draining; send to another', {
        'Retry-After': '1',
      });
    }
    const accepted = await this.chat.send(body);
    await this.streams.answer(res, {
      sessionId: accepted.sessionId,
      cursor: accepted.seq,
      inputSeq: accepted.seq,
    });
  }

  @Get(':id/messages')
  @RequireAccess('read')
  @ApiOperation({ summary: 'The session as the AI SDK’s UIMessage[] (useChat({ messages }))' })
  @ApiDoc({ id: true, ok: [200, 'UIMessages'], auth: 'read' })
  messages(@SessionId() id: string): Promise<UiMessage[]> {
    return this.chat.messages(id);
  }

  @Post(':id/stop')
  @HttpCode(202)
  @RequireAccess('write')
  @ApiOperation({ summary: 'Stop the running turn, or the waiting message’s turn once it begins' })
  @ApiDoc({ id: true, ok: [202, 'InterruptAccepted'], auth: 'write', errors: [409] })
  stop(@SessionId() id: string): Promise<InterruptAccepted> {
    return this.chat.stop(id);
  }
}
