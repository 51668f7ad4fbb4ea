import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type {
  EventsPage,
  InterruptAccepted,
  MessageAccepted,
  Session,
  SessionList,
  TokenIssued,
} from '@sessionwire/transport/protocol';
import type { Response } from 'express';
import { RequireAccess } from '../auth/access.decorator';
import { SessionId } from '../common/session-id.param';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc } from '../openapi/api-doc.decorator';
import {
  createSessionSchema,
  eventsQuerySchema,
  listSessionsQuerySchema,
  mintTokenSchema,
  postMessageSchema,
  type CreateSessionBody,
  type EventsQuery,
  type ListSessionsQuery,
  type MintTokenBody,
  type PostMessageBody,
} from './sessions.schemas';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@Controller('v1/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @HttpCode(201)
  @RequireAccess('api_key')
  @ApiOperation({ summary: 'Create a session' })
  @ApiDoc({ body: 'CreateSessionRequest', ok: [201, 'Session'], auth: 'api_key' })
  create(
    @Body(new ZodPipe(createSessionSchema, 'body')) body: CreateSessionBody,
  ): Promise<Session> {
    return this.sessions.create(body);
  }

  @Get()
  @RequireAccess('api_key')
  @ApiOperation({ summary: 'List sessions, newest first (keyset paging)' })
  @ApiDoc({ query: 'list', ok: [200, 'SessionList'], auth: 'api_key' })
  list(
    @Query(new ZodPipe(listSessionsQuerySchema, 'query')) query: ListSessionsQuery,
  ): Promise<SessionList> {
    return this.sessions.listSessions(query);
  }

  @Get(':id')
  @RequireAccess('read')
  @ApiOperation({ summary: 'Get a session' })
  @ApiDoc({ id: true, ok: [200, 'Session'], auth: 'read' })
  get(@SessionId() id: string): Promise<Session> {
    return this.sessions.get(id);
  }

  @Get(':id/events')
  @RequireAccess('read')
  @ApiOperation({ summary: 'Read the log: after a seq (ascending) or just below one' })
  @ApiDoc({ id: true, query: 'events', ok: [200, 'EventsPage'], auth: 'read', errors: [410] })
  events(
    @SessionId() id: string,
    @Query(new ZodPipe(eventsQuerySchema, 'query')) query: EventsQuery,
  ): Promise<EventsPage> {
    return this.sessions.events(id, query);
  }

  @Post(':id/messages')
  @HttpCode(202)
  @RequireAccess('write')
  @ApiOperation({ summary: 'Send a user message (idempotent by clientMessageId)' })
  @ApiDoc({
    id: true,
    body: 'PostMessageRequest',
    ok: [202, 'MessageAccepted'],
    also: [[200, 'MessageAccepted', 'duplicate: the same clientMessageId and content']],
    auth: 'write',
    errors: [409, 413, 429],
  })
  async postMessage(
    @SessionId() id: string,
    @Body(new ZodPipe(postMessageSchema, 'body')) body: PostMessageBody,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageAccepted> {
    const accepted = await this.sessions.postMessage(id, body);
    if (accepted.duplicate) res.status(200);
    return accepted;
  }

  @Post(':id/interrupt')
  @HttpCode(202)
  @RequireAccess('write')
  @ApiOperation({ summary: 'Interrupt the running turn (fire-and-forget)' })
  @ApiDoc({ id: true, ok: [202, 'InterruptAccepted'], auth: 'write', errors: [409] })
  interrupt(@SessionId() id: string): Promise<InterruptAccepted> {
    return this.sessions.interrupt(id);
  }

  @Post(':id/end')
  @HttpCode(202)
  @RequireAccess('write')
  @ApiOperation({ summary: 'End the session (idempotent)' })
  @ApiDoc({ id: true, ok: [202, 'Session'], auth: 'write' })
  end(@SessionId() id: string): Promise<Session> {
    return this.sessions.end(id);
  }

  @Post(':id/tokens')
  @HttpCode(201)
  @RequireAccess('api_key')
  @ApiOperation({ summary: 'Mint a session-scoped token (JWT)' })
  @ApiDoc({ id: true, body: 'MintTokenRequest', ok: [201, 'TokenIssued'], auth: 'api_key' })
  mintToken(
    @SessionId() id: string,
    @Body(new ZodPipe(mintTokenSchema, 'body')) body: MintTokenBody,
  ): Promise<TokenIssued> {
    return this.sessions.mintToken(id, body);
  }
}
