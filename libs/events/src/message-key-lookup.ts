import { and, eq, sql } from 'drizzle-orm';
import type { StoredEvent } from '@sessionwire/transport/protocol';
import type { Database } from './database';
import { IdempotencyConflictError } from './errors';
import { messageKeys } from './schema';

type Executor = Pick<Database, 'select'>;

export interface UserMessage {
  clientMessageId: string;
  content: string;
}

/**
 * The `message.user` a retry names, from `message_keys` (the event itself may be gone with its
 * partition): undefined for a new key; the original event for the same content (byte-equal UTF-8,
 * compared by SHA-256); an {@link IdempotencyConflictError} for other content. Call it under the
 * session row's lock, as the append that follows is.
 */
export async function findUserMessage(
  tx: Executor,
  sessionId: string,
  message: UserMessage,
): Promise<(StoredEvent & { type: 'message.user' }) | undefined> {
  const [key] = await tx
    .select({
      seq: messageKeys.seq,
      createdAt: messageKeys.createdAt,
      sameContent: sql<boolean>`${messageKeys.contentSha256} = sha256(convert_to(${message.content}::text, 'UTF8'))`,
    })
    .from(messageKeys)
    .where(
      and(
        eq(messageKeys.sessionId, sessionId),
        eq(messageKeys.clientMessageId, message.clientMessageId),
      ),
    );
  if (!key) return undefined;
  if (!key.sameContent) throw new IdempotencyConflictError(sessionId, message.clientMessageId);
  return {
    sessionId,
    seq: Number(key.seq),
    type: 'message.user',
    data: { clientMessageId: message.clientMessageId, content: message.content },
    createdAt: key.createdAt.toISOString(),
  } as StoredEvent & { type: 'message.user' };
}
