import type { StoredEvent } from '../protocol/events';

/** A part of a {@link UiMessage}, of the kinds the AI SDK's `UIMessage` has and we make. */
export type UiMessagePart =
  | { type: 'step-start' }
  | { type: 'text'; text: string; state: 'done' }
  | {
      type: 'dynamic-tool';
      toolName: string;
      toolCallId: string;
      providerExecuted: true;
      input: unknown;
      state: 'input-available';
    }
  | {
      type: 'dynamic-tool';
      toolName: string;
      toolCallId: string;
      providerExecuted: true;
      input: unknown;
      state: 'output-available';
      output: unknown;
    }
  | {
      type: 'dynamic-tool';
      toolName: string;
      toolCallId: string;
      providerExecuted: true;
      input: unknown;
      state: 'output-error';
      errorText: string;
    };

/** The AI SDK's `UIMessage`, as `GET /v1/ai-sdk/chat/:id/messages` answers (PROTOCOL §9). */
export interface UiMessage {
  id: string;
  role: 'user' | 'assistant';
  parts: UiMessagePart[];
}

/**
 * Folds a session's log, in seq order, into the AI SDK's messages: each `message.user` becomes a
 * user message with its `clientMessageId` as id; each turn one assistant message with the turn id
 * as id, with a text part per run of deltas and a `dynamic-tool` part per call (what the chat's
 * client would hold had it read the turn's stream). Feed it pages with {@link add}; read
 * {@link messages} at the end.
 */
export class UiMessageFold {
  readonly messages: UiMessage[] = [];
  private turn:
    { id: string; message: UiMessage; text?: Extract<UiMessagePart, { type: 'text' }> } | undefined;
  private readonly tools = new Map<string, number>();

  add(events: readonly StoredEvent[]): this {
    for (const event of events) this.take(event);
    return this;
  }

  private take(event: StoredEvent): void {
    switch (event.type) {
      case 'message.user':
        this.messages.push({
          id: event.data.clientMessageId,
          role: 'user',
          parts: [{ type: 'text', text: event.data.content, state: 'done' }],
        });
        return;
      case 'turn.started': {
        const message: UiMessage = { id: event.data.turnId, role: 'assistant', parts: [] };
        message.parts.push({ type: 'step-start' });
        this.messages.push(message);
        this.turn = { id: event.data.turnId, message };
        this.tools.clear();
        return;
      }
      default:
        break;
    }
    const turn = this.turn;
    if (!turn || !('turnId' in event.data) || event.data.turnId !== turn.id) return;
    const parts = turn.message.parts;
    switch (event.type) {
      case 'message.delta':
        if (event.data.text.length === 0) return;
        if (!turn.text) {
          turn.text = { type: 'text', text: '', state: 'done' };
          parts.push(turn.text);
        }
        turn.text.text += event.data.text;
        return;
      case 'tool.call':
        turn.text = undefined;
        this.tools.set(event.data.callId, parts.length);
        parts.push({
          type: 'dynamic-tool',
          toolName: event.data.name,
          toolCallId: event.data.callId,
          providerExecuted: true,
          input: event.data.input ?? {},
          state: 'input-available',
        });
        return;
      case 'tool.result': {
        const at = this.tools.get(event.data.callId);
        if (at === undefined) return;
        const call = parts[at] as Extract<UiMessagePart, { type: 'dynamic-tool' }>;
        const base = {
          type: 'dynamic-tool' as const,
          toolName: call.toolName,
          toolCallId: call.toolCallId,
          providerExecuted: true as const,
          input: call.input,
        };
        const { output, isError } = event.data;
        parts[at] = isError
          ? {
              ...base,
              state: 'output-error',
              errorText: typeof output === 'string' ? output : JSON.stringify(output ?? null),
            }
          : { ...base, state: 'output-available', output: output ?? null };
        return;
      }
      case 'turn.completed':
        this.turn = undefined;
        return;
      default:
        return;
    }
  }
}
