import type { EventStore } from '@sessionwire/events';
import type { ConversationMessage } from '@sessionwire/agents';

const PAGE = 500;

/**
 * The conversation before `beforeSeq`, oldest first: user messages and completed replies, at most
 * the newest `maxMessages`. Reads the log backwards in pages and stops as soon as it has enough.
 */
export async function readConversation(
  store: EventStore,
  sessionId: string,
  beforeSeq: number,
  maxMessages: number,
): Promise<ConversationMessage[]> {
  const newestFirst: ConversationMessage[] = [];
  let before = beforeSeq;
  while (newestFirst.length < maxMessages && before > 1) {
    const page = await store.getEventsBefore(sessionId, before, PAGE);
    if (page.length === 0) break;
    for (let i = page.length - 1; i >= 0 && newestFirst.length < maxMessages; i--) {
      const event = page[i];
      if (event.type === 'message.user') {
        newestFirst.push({ role: 'user', content: event.data.content });
      } else if (event.type === 'message.completed') {
        newestFirst.push({ role: 'assistant', content: event.data.text });
      }
    }
    before = page[0].seq;
  }
  return newestFirst.reverse();
}
