import { Injectable } from '@nestjs/common';
import { EventStore, type CurrentTurn } from '@sessionwire/events';
import type { InterruptAccepted, MessageAccepted } from '@sessionwire/transport/protocol';
import { UiMessageFold, type UiMessage } from '@sessionwire/transport/ai-sdk';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiProblem, validationFailed } from '../errors/problem';
import { SessionsService } from '../sessions/sessions.service';
import { SessionNotFoundError } from '@sessionwire/transport/protocol/domain-errors';
import { sentMessageSchema, type ChatRequest } from './ai-sdk.schemas';

/** Events per read when the session is folded into messages. */
const PAGE = 1000;
/** How long a stop waits for an accepted message's turn to begin, so that it can interrupt it. */
const STOP_WAIT_MS = 5_000;
const STOP_POLL_MS = [25, 50, 100, 200, 250];

/** Decides the AI SDK adapter's operations (PROTOCOL §9) on top of the sessions' own. */
@Injectable()
export class AiSdkService {
  constructor(
    private readonly sessions: SessionsService,
    private readonly store: EventStore,
  ) {}

  /** Appends the chat's last message (idempotent by its id), as `POST …/messages` does. */
  send(request: ChatRequest): Promise<MessageAccepted> {
    if (request.trigger === 'regenerate-message') {
      throw new ApiProblem(
        'unsupported_trigger',
        'regenerate-message is not supported: send a new message (a new id) instead',
      );
    }
    const parsed = sentMessageSchema.safeParse(request.messages[request.messages.length - 1]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw validationFailed(`messages[-1].${issue.path.join('.')}: ${issue.message}`);
    }
    const content = parsed.data.parts
      .filter((part) => part.type === 'text' && typeof part.text === 'string')
      .map((part) => part.text as string)
      .join('');
    if (content.length === 0) throw validationFailed('messages[-1]: has no text');
    return this.sessions.postMessage(request.id, { clientMessageId: parsed.data.id, content });
  }

  /** The running or waiting turn (404 for an unknown session). */
  async currentTurn(sessionId: string): Promise<CurrentTurn> {
    const turn = await this.store.getCurrentTurn(sessionId);
    if (!turn) throw new SessionNotFoundError(sessionId);
    return turn;
  }

  /**
   * Interrupts the running turn; when a message waits for its turn instead, waits (bounded) for
   * that turn to begin and interrupts it.
   */
  async stop(sessionId: string): Promise<InterruptAccepted> {
    const deadline = Date.now() + STOP_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      const accepted = await this.sessions.interrupt(sessionId);
      if (accepted.turnId !== null) return accepted;
      const turn = await this.currentTurn(sessionId);
      if (!turn.waiting && turn.turnId === null) return accepted;
      if (Date.now() >= deadline) return accepted;
      await sleep(STOP_POLL_MS[Math.min(attempt, STOP_POLL_MS.length - 1)]);
    }
  }

  /** The session as the AI SDK's `UIMessage[]`. */
  async messages(sessionId: string): Promise<UiMessage[]> {
    await this.store.requireSession(sessionId);
    const fold = new UiMessageFold();
    for (let after = 0; ;) {
      const page = await this.store.getEventsAfter(sessionId, after, PAGE);
      fold.add(page);
      if (page.length < PAGE) return fold.messages;
      after = page[page.length - 1].seq;
    }
  }
}
