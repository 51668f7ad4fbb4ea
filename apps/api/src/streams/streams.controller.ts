import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { SessionNotFoundError } from '@sessionwire/events';
import type { Response } from 'express';
import { RequireAccess } from '../auth/access.decorator';
import { SessionId } from '../common/session-id.param';
import { ApiProblem } from '../errors/problem';
import { LifecycleService } from '../health/lifecycle.service';
import { ApiDoc } from '../openapi/api-doc.decorator';
import { streamCursor } from './stream-cursor';
import { StreamHubService } from './stream-hub.service';

const SSE_CONTENT = {
  'text/event-stream': {
    schema: { type: 'string' },
    example:
      'retry: 1000\n\nid: 42\nevent: message.delta\ndata: {"sessionId":"…","seq":42,' +
      '"type":"message.delta","data":{"turnId":"…","text":"Hel"},"createdAt":"…"}\n\n',
  },
};

@ApiTags('streams')
@Controller('v1/sessions')
export class StreamsController {
  constructor(
    private readonly hub: StreamHubService,
    private readonly lifecycle: LifecycleService,
  ) {}

  @Get(':id/stream')
  @RequireAccess('read', { queryToken: true })
  @ApiOperation({
    summary: 'Stream the session (SSE): every event after the cursor, then live',
    description:
      'Frames: stored events (id = seq), and control frames gap, live, heartbeat, end. ' +
      'Cursor: Last-Event-ID, else ?after=, else 0. 204 when the session is ENDED and the ' +
      'cursor is at head. See docs/protocol.md §4.',
  })
  @ApiDoc({
    id: true,
    query: 'stream',
    lastEventId: true,
    ok: [200, 'stream', 'text/event-stream'],
    okContent: SSE_CONTENT,
    also: [],
    auth: 'read',
  })
  async stream(
    @SessionId() sessionId: string,
    @Headers('last-event-id') lastEventId: unknown,
    @Query('after') after: unknown,
    @Res() res: Response,
  ): Promise<void> {
    if (this.lifecycle.draining) {
      throw new ApiProblem('unavailable', 'this node is draining; reconnect to another', {
        'Retry-After': '1',
      });
    }
    const cursor = streamCursor(lastEventId, after);
    const head = await this.hub.resolveHead(sessionId, cursor);
    if (!head) throw new SessionNotFoundError(sessionId);
    await this.hub.serve(res, { sessionId, cursor, head });
  }
}
