import type { EventData, StopReason, StoredEvent } from '../protocol/events';

/**
 * One chunk of the Vercel AI SDK's UI message stream (`ai` 7, `UIMessageChunk`), as we send it.
 * Only the chunk types of PROTOCOL §9 are ever made; the SDK's client validates each one.
 */
export type UiMessageChunk =
  | { type: 'start'; messageId: string }
  | { type: 'start-step' }
  | { type: 'finish-step' }
  | { type: 'text-start'; id: string }
  | { type: 'text-delta'; id: string; delta: string }
  | { type: 'text-end'; id: string }
  | {
      type: 'tool-input-available';
      toolCallId: string;
      toolName: string;
      input: unknown;
      dynamic: true;
      providerExecuted: true;
    }
  | {
      type: 'tool-output-available';
      toolCallId: string;
      output: unknown;
      dynamic: true;
      providerExecuted: true;
    }
  | {
      type: 'tool-output-error';
      toolCallId: string;
      errorText: string;
      dynamic: true;
      providerExecuted: true;
    }
  | { type: 'error'; errorText: string }
  | { type: 'finish'; finishReason: UiFinishReason }
  | { type: `data-sessionwire-${string}`; data: unknown; transient: true };

export type UiFinishReason = 'stop' | 'interrupted' | 'error';

/** Which turn a {@link TurnChunks} maps: the first turn it sees, or the one answering `inputSeq`. */
export interface TurnSelector {
  /** Map the turn that answers the `message.user` with this seq (a POST's own turn). */
  inputSeq?: number;
}

const FINISH_REASONS: Record<StopReason, UiFinishReason> = {
  end_turn: 'stop',
  interrupted: 'interrupted',
  error: 'error',
  worker_lost: 'error',
};

/**
 * Maps one turn of a session's log to UI message chunks (PROTOCOL §9), event by event, in seq
 * order. Pure and synchronous; one instance per response.
 *
 * Guarantees, whatever events it is fed:
 * - nothing is emitted before the selected turn's `turn.started` (which becomes `start` with the
 *   turn id as `messageId`, then `start-step`), and nothing after its `finish`;
 * - a `text-delta` or `text-end` only inside an open text part (`text-start` first); a tool call
 *   closes the open text part;
 * - tools are `dynamic` and `providerExecuted` (the server ran them); an output whose call was not
 *   seen becomes a transient data part instead (the SDK would throw on it);
 * - at most one `error` chunk, and only right before the final `finish`;
 * - every chunk type is one the SDK knows, or a transient `data-sessionwire-*` part.
 */
export class TurnChunks {
  private turnId: string | undefined;
  private textPart: string | undefined;
  private textParts = 0;
  private readonly calls = new Set<string>();
  private lastAgentError: EventData<'agent.error'> | undefined;
  private done = false;

  constructor(private readonly selector: TurnSelector = {}) {}

  /** True once the turn began (its `start` went out). */
  get started(): boolean {
    return this.turnId !== undefined;
  }

  /** True once `finish` went out: nothing more follows. */
  get finished(): boolean {
    return this.done;
  }

  /** The chunks one stored event maps to (often none). */
  map(event: StoredEvent): UiMessageChunk[] {
    if (this.done) return [];
    if (!this.turnId) return event.type === 'turn.started' ? this.begin(event.data) : [];
    if ('turnId' in event.data && event.data.turnId && event.data.turnId !== this.turnId) return [];
    switch (event.type) {
      case 'message.delta':
        return this.text(event.data.text);
      case 'tool.call': {
        this.calls.add(event.data.callId);
        return [
          ...this.closeText(),
          {
            type: 'tool-input-available',
            toolCallId: event.data.callId,
            toolName: event.data.name,
            input: event.data.input ?? {},
            dynamic: true,
            providerExecuted: true,
          },
        ];
      }
      case 'tool.result':
        return this.toolResult(event);
      case 'agent.error':
        this.lastAgentError = event.data;
        return [dataPart(event)];
      case 'turn.completed':
        return this.complete(event.data);
      case 'message.completed':
        return [];
      default:
        return [dataPart(event)];
    }
  }

  /**
   * Ends the turn's stream without its `turn.completed` (the session ended before the turn
   * began, or its log can no longer be read): an `error` chunk when `code` is given, then `finish`.
   * Before `start`, it sends `start` first so that the SDK has a message to finish.
   */
  abort(messageId: string, error?: { code: string; message: string }): UiMessageChunk[] {
    if (this.done) return [];
    const head: UiMessageChunk[] = this.turnId ? [] : this.begin({ turnId: messageId });
    return [...head, ...this.end(error ? 'error' : 'interrupted', error)];
  }

  private begin(data: { turnId: string; inputSeq?: number }): UiMessageChunk[] {
    const wanted = this.selector.inputSeq;
    if (wanted !== undefined && data.inputSeq !== undefined && data.inputSeq !== wanted) return [];
    this.turnId = data.turnId;
    return [{ type: 'start', messageId: data.turnId }, { type: 'start-step' }];
  }

  private text(delta: string): UiMessageChunk[] {
    if (delta.length === 0) return [];
    const out: UiMessageChunk[] = [];
    if (this.textPart === undefined) {
      this.textPart = `${this.turnId}:${this.textParts++}`;
      out.push({ type: 'text-start', id: this.textPart });
    }
    out.push({ type: 'text-delta', id: this.textPart, delta });
    return out;
  }

  private closeText(): UiMessageChunk[] {
    if (this.textPart === undefined) return [];
    const id = this.textPart;
    this.textPart = undefined;
    return [{ type: 'text-end', id }];
  }

  private toolResult(event: StoredEvent & { type: 'tool.result' }): UiMessageChunk[] {
    const { callId, output, isError } = event.data;
    if (!this.calls.has(callId)) return [dataPart(event)];
    this.calls.delete(callId);
    if (isError) {
      return [
        {
          type: 'tool-output-error',
          toolCallId: callId,
          errorText: typeof output === 'string' ? output : JSON.stringify(output ?? null),
          dynamic: true,
          providerExecuted: true,
        },
      ];
    }
    return [
      {
        type: 'tool-output-available',
        toolCallId: callId,
        output: output ?? null,
        dynamic: true,
        providerExecuted: true,
      },
    ];
  }

  private complete(data: EventData<'turn.completed'>): UiMessageChunk[] {
    const reason = FINISH_REASONS[data.stopReason];
    if (reason !== 'error') return this.end(reason);
    const error = data.error ??
      this.lastAgentError ?? {
        code: data.stopReason,
        message: `the turn ended: ${data.stopReason}`,
      };
    return this.end('error', error);
  }

  private end(reason: UiFinishReason, error?: { code: string; message: string }): UiMessageChunk[] {
    this.done = true;
    const out = [...this.closeText(), { type: 'finish-step' } as UiMessageChunk];
    if (error) out.push({ type: 'error', errorText: `${error.code}: ${error.message}` });
    out.push({ type: 'finish', finishReason: reason });
    return out;
  }
}

/** A transient `data-sessionwire-<type>` part (`agent.error` → `data-sessionwire-agent-error`). */
function dataPart(event: StoredEvent): UiMessageChunk {
  return {
    type: `data-sessionwire-${event.type.replace(/[._]/g, '-')}`,
    data: { seq: event.seq, ...event.data },
    transient: true,
  };
}
