import { Inject, Injectable } from '@nestjs/common';
import { EventStore, LeaseStore } from '@sessionwire/events';
import type {
  EventsPage,
  InterruptAccepted,
  MessageAccepted,
  Session,
  SessionList,
  SessionState,
  Activity,
  TokenIssued,
} from '@sessionwire/transport/protocol';
import { v7 as uuidv7 } from 'uuid';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG } from '../config/config.tokens';
import { TokenService } from '../auth/token.service';
import { ApiProblem, validationFailed } from '../errors/problem';
import { LimitsService } from '../limits/limits.service';
import { decodeListCursor, encodeListCursor, toSession } from './session.mapper';
import type {
  CreateSessionBody,
  EventsQuery,
  ListSessionsQuery,
  MintTokenBody,
  PostMessageBody,
} from './sessions.schemas';

/** Decides every session operation; the stores do the queries, their commit hook the hints. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly store: EventStore,
    private readonly leases: LeaseStore,
    private readonly tokens: TokenService,
    private readonly limits: LimitsService,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async create(body: CreateSessionBody): Promise<Session> {
    const agent = body.agent ?? 'demo';
    if (!this.config.agents.includes(agent)) {
      throw validationFailed(`unknown agent "${agent}"; known: ${this.config.agents.join(', ')}`);
    }
    const row = await this.store.createSession({ id: uuidv7(), agent, metadata: body.metadata });
    return toSession(row);
  }

  async get(sessionId: string): Promise<Session> {
    return toSession(await this.store.requireSession(sessionId));
  }

  async listSessions(query: ListSessionsQuery): Promise<SessionList> {
    const beforeId = query.cursor === undefined ? undefined : decodeListCursor(query.cursor);
    const rows = await this.store.listSessions({
      state: query.state,
      limit: query.limit + 1,
      beforeId,
    });
    const page = rows.slice(0, query.limit);
    const nextCursor =
      rows.length > query.limit ? encodeListCursor(page[page.length - 1].id) : null;
    return { sessions: page.map(toSession), nextCursor };
  }

  /**
   * A page of the log. Retention removes a prefix of it, so a page that starts later than asked
   * (or is empty below the head) asked for removed seqs: 410 `history_expired` with `oldestSeq`.
   */
  async events(sessionId: string, query: EventsQuery): Promise<EventsPage> {
    const row = await this.store.requireSession(sessionId);
    const head = Number(row.headSeq);
    let events;
    let hasMore: boolean;
    if (query.before !== undefined) {
      const rows = await this.store.getEventsBefore(sessionId, query.before, query.limit + 1);
      hasMore = rows.length > query.limit;
      events = rows.slice(-query.limit);
      // the page ends at `top`; were nothing removed it would hold min(limit, top) events
      const top = events.at(-1)?.seq ?? Math.min(query.before - 1, head);
      if (top >= 1 && events.length < Math.min(query.limit, top)) {
        await this.historyExpired(sessionId, events[0]?.seq);
      }
    } else {
      const after = query.after ?? 0;
      events = await this.store.getEventsAfter(sessionId, after, query.limit + 1);
      if (events.length > 0 ? events[0].seq > after + 1 : after < head) {
        await this.historyExpired(sessionId, events[0]?.seq);
      }
      hasMore = events.length > query.limit;
      events = events.slice(0, query.limit);
    }
    const last = events.length ? events[events.length - 1].seq : 0;
    return {
      sessionId,
      events,
      headSeq: Math.max(head, last),
      state: row.state as SessionState,
      activity: row.activity as Activity,
      hasMore,
    };
  }

  private async historyExpired(sessionId: string, firstRead: number | undefined): Promise<never> {
    const oldestSeq =
      firstRead ??
      (await this.store.getOldestSeq(sessionId)) ??
      (await this.store.getHeadSeq(sessionId)) + 1;
    throw new ApiProblem(
      'history_expired',
      `events of session ${sessionId} before seq ${oldestSeq} were removed by retention`,
      {},
      { extensions: { oldestSeq } },
    );
  }

  async postMessage(sessionId: string, body: PostMessageBody): Promise<MessageAccepted> {
    const bytes = Buffer.byteLength(body.content, 'utf8');
    if (bytes > this.config.maxMessageBytes) {
      throw new ApiProblem(
        'payload_too_large',
        `content is ${bytes} bytes; the limit is ${this.config.maxMessageBytes} bytes of UTF-8`,
      );
    }
    await this.limits.messages.consume(sessionId);
    const clientMessageId = body.clientMessageId ?? uuidv7();
    const { event, duplicate } = await this.store.appendUserMessage(sessionId, {
      clientMessageId,
      content: body.content,
    });
    return { sessionId, seq: event.seq, clientMessageId, duplicate };
  }

  async interrupt(sessionId: string): Promise<InterruptAccepted> {
    const { turnId } = await this.store.requestInterrupt(sessionId);
    return { sessionId, turnId };
  }

  async end(sessionId: string): Promise<Session> {
    const change = await this.leases.end(sessionId);
    return toSession(change.session);
  }

  async mintToken(sessionId: string, body: MintTokenBody): Promise<TokenIssued> {
    await this.store.requireSession(sessionId);
    return this.tokens.mint(sessionId, body.scope, body.ttlSeconds);
  }
}
