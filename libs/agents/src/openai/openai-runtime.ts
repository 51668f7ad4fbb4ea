import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { AgentEmit, AgentRuntime, AgentTurn } from '../agent-runtime';

export interface OpenAiRuntimeOptions {
  /** Up to and including `/v1`, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Most history messages sent with each request (default 100). */
  maxHistory?: number;
}

interface ChatChunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  error?: { message?: string };
}

export class ChatCompletionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChatCompletionsError';
  }
}

/**
 * Streams a reply from any OpenAI-compatible `POST /v1/chat/completions` endpoint
 * (`stream: true`), sending the conversation's user messages and completed replies as history.
 * An HTTP error, an `error` chunk, or a stream that ends before `[DONE]` or a `finish_reason`
 * fails the turn.
 */
export class OpenAiRuntime implements AgentRuntime {
  private readonly stop = new AbortController();

  constructor(private readonly options: OpenAiRuntimeOptions) {}

  async run(turn: AgentTurn, signal: AbortSignal, emit: AgentEmit): Promise<void> {
    const history = await turn.history(this.options.maxHistory ?? 100);
    const response = await fetch(`${this.options.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: this.options.model,
        stream: true,
        messages: [...history, { role: 'user', content: turn.input }],
      }),
      signal: AbortSignal.any([signal, this.stop.signal]),
    });
    if (!response.ok || !response.body) {
      const detail = (await response.text().catch(() => '')).slice(0, 200);
      throw new ChatCompletionsError(
        `chat completions answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
      );
    }
    let finished = false;
    let failure: Error | undefined;
    const parser = createParser({
      onEvent: (event: EventSourceMessage) => {
        if (finished || failure) return;
        if (event.data === '[DONE]') {
          finished = true;
          return;
        }
        let chunk: ChatChunk;
        try {
          chunk = JSON.parse(event.data) as ChatChunk;
        } catch {
          failure = new ChatCompletionsError('chat completions sent a chunk that is not JSON');
          return;
        }
        if (chunk.error) {
          failure = new ChatCompletionsError(
            `chat completions error: ${chunk.error.message ?? ''}`,
          );
          return;
        }
        const choice = chunk.choices?.[0];
        const text = choice?.delta?.content;
        if (text) emit({ type: 'delta', text });
        if (choice?.finish_reason) finished = true;
      },
    });
    const decoder = new TextDecoder();
    for await (const bytes of response.body) {
      parser.feed(decoder.decode(bytes, { stream: true }));
      if (failure) throw failure;
      if (finished) break;
    }
    if (failure) throw failure;
    if (!finished) throw new ChatCompletionsError('chat completions stream closed before the end');
  }

  interrupt(): void {
    this.stop.abort(new Error('interrupted'));
  }
}
