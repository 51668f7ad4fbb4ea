import type { UiMessageChunk } from './turn-chunks';

/** Response headers of a UI message stream (PROTOCOL §9; `ai` reads the `x-vercel-ai-…` one). */
export const UI_MESSAGE_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  'X-Vercel-AI-UI-Message-Stream': 'v1',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
};

/** One chunk as its SSE frame: `data: <json>` and a blank line. */
export function encodeUiChunk(chunk: UiMessageChunk): string {
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** The frames of many chunks, in order, as one string (one write). */
export function encodeUiChunks(chunks: readonly UiMessageChunk[]): string {
  let out = '';
  for (const chunk of chunks) out += encodeUiChunk(chunk);
  return out;
}

/** The stream's last frame, after `finish`. */
export const UI_STREAM_DONE = 'data: [DONE]\n\n';

/** A heartbeat: an SSE comment, which the SDK's parser skips. */
export const UI_STREAM_HEARTBEAT = ': heartbeat\n\n';
