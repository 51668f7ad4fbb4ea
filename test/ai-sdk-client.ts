import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { waitFor } from './process';

/**
 * The AI SDK's own chat transport pointed at one API node's `/v1/ai-sdk/chat`, with a credential.
 * `signal` aborts every request it made (a test's cleanup: no stream outlives its test).
 */
export function chatTransport(
  baseUrl: string,
  token: string,
  signal?: AbortSignal,
): DefaultChatTransport<UIMessage> {
  return new DefaultChatTransport({
    api: `${baseUrl}/v1/ai-sdk/chat`,
    headers: { authorization: `Bearer ${token}` },
    fetch: signal ? (input, init) => fetch(input, { ...init, signal }) : undefined,
  });
}

/** A user message as `useChat` makes it. */
export function userMessage(id: string, text: string): UIMessage {
  return { id, role: 'user', parts: [{ type: 'text', text }] };
}

/**
 * One UI message stream read to its end in the background: its chunks as they arrive and the
 * message the SDK builds from them (from an empty message, as a resumed stream is read).
 */
export class ChunkReader {
  readonly chunks: UIMessageChunk[] = [];
  message: UIMessage | undefined;
  error: unknown;
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<UIMessageChunk>) {
    const [forChunks, forMessage] = stream.tee();
    const chunks = (async () => {
      for await (const chunk of forChunks) this.chunks.push(chunk);
    })();
    const message = (async () => {
      for await (const built of readUIMessageStream({ stream: forMessage })) this.message = built;
    })();
    this.done = Promise.all([chunks, message]).then(
      () => undefined,
      (error: unknown) => {
        this.error = error;
      },
    );
  }

  /** Chunks of one type. */
  of(type: UIMessageChunk['type']): UIMessageChunk[] {
    return this.chunks.filter((chunk) => chunk.type === type);
  }

  /** The text the chunks carried (every `text-delta`, in order). */
  get deltaText(): string {
    return this.chunks.map((c) => (c.type === 'text-delta' ? c.delta : '')).join('');
  }

  /** Resolves once the stream has carried at least `chars` characters of text. */
  untilText(chars: number): Promise<void> {
    return waitFor(`${chars} characters of text`, () => this.deltaText.length >= chars);
  }
}

/** The text of a UI message: its text parts joined. */
export function messageText(message: UIMessage | undefined): string {
  return (message?.parts ?? []).map((p) => (p.type === 'text' ? p.text : '')).join('');
}

/** The demo agent's reply to `/stream N`: `t0 t1 … t(N-1) `. */
export function demoReply(tokens: number): string {
  return Array.from({ length: tokens }, (_, i) => `t${i} `).join('');
}
