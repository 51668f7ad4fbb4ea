// A chat page as an AI SDK application writes it: `useChat({ resume: true })` with Sessionwire's
// AI SDK endpoints as its backend. Bundled with esbuild by test/e2e/ai-sdk-browser.e2e-spec.ts.
import { useChat } from '@ai-sdk/react';
import { DefaultChatTransport, type UIMessage } from 'ai';
import { createElement as h, useEffect } from 'react';
import { createRoot } from 'react-dom/client';

interface ChatWindow {
  chat?: { send(text: string): void };
  /** Every assistant text the page rendered, in order (a duplicate would show up here). */
  rendered: string[];
  /** The assistant text of the messages the page loaded with. */
  loaded?: string;
  state?: { status: string; error: string | null; messages: { role: string; text: string }[] };
}

const params = new URLSearchParams(location.search);
const chatId = params.get('session') ?? '';
const headers = { authorization: `Bearer ${params.get('token') ?? ''}` };
const page = window as unknown as ChatWindow;
page.rendered = [];

// As docs/ai-sdk.md shows it: the token through the two prepare hooks, only the new message sent.
const api = `${location.origin}/v1/ai-sdk/chat`;
const transport = new DefaultChatTransport({
  api,
  prepareSendMessagesRequest: ({ id, messages }) => ({
    headers,
    body: { id, messages: messages.slice(-1) },
  }),
  prepareReconnectToStreamRequest: ({ id }) => ({ api: `${api}/${id}/stream`, headers }),
});

const textOf = (message: UIMessage) =>
  message.parts.map((part) => (part.type === 'text' ? part.text : '')).join('');

function Chat({ initial }: { initial: UIMessage[] }) {
  const { messages, sendMessage, status, error } = useChat({
    id: chatId,
    messages: initial,
    resume: true,
    transport,
  });
  useEffect(() => {
    page.chat = { send: (text) => void sendMessage({ text }) };
  }, [sendMessage]);
  useEffect(() => {
    for (const message of messages) {
      if (message.role === 'assistant') page.rendered.push(textOf(message));
    }
    page.state = {
      status,
      error: error?.message ?? null,
      messages: messages.map((m) => ({ role: m.role, text: textOf(m) })),
    };
    document.title = 'ready';
  });
  return h(
    'ul',
    null,
    messages.map((m) => h('li', { key: m.id, 'data-role': m.role }, textOf(m))),
  );
}

void fetch(`/v1/ai-sdk/chat/${chatId}/messages`, { headers })
  .then((res) => res.json() as Promise<UIMessage[]>)
  .then((initial) => {
    page.loaded = initial
      .filter((m) => m.role === 'assistant')
      .map(textOf)
      .join('|');
    createRoot(document.getElementById('root')!).render(h(Chat, { initial }));
  });
