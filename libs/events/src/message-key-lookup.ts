import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { StoredEvent } from '@sessionwire/transport/protocol';
import { IdempotencyConflictError } from './errors';
import { messageKeys } from './schema';
import type { Executor } from './write/session-command';
import { NamedStatement } from './named-statement';

/** A stored idempotency key (a row of `message_keys`): what a retry is answered from. */
export interface MessageKey {
  seq: number;
  /** The event's `created_at`, ISO 8601. */
  createdAt: string;
  /** SHA-256 of the content's UTF-8 bytes, hex. */
  contentSha256: string;
}

export interface UserMessage {
  clientMessageId: string;
  content: string;
}

/** The SHA-256 of a content's UTF-8 bytes, hex: what `message_keys.content_sha256` holds. */
export function contentSha256(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

/** The map key of a `(session, clientMessageId)` pair. */
export const messageKeyOf = (sessionId: string, clientMessageId: string) =>
  `${sessionId}\n${clientMessageId}`;

const FIND_MESSAGE_KEYS = new NamedStatement<{ sessionIds: string[]; clientMessageIds: string[] }>(
  () =>
    sql`
      select k.session_id, k.client_message_id, k.seq, k.created_at,
             encode(k.content_sha256, 'hex') as sha
      from unnest(${sql.placeholder('sessionIds')}::uuid[],
                  ${sql.placeholder('clientMessageIds')}::text[]) as w(s, c)
      join ${messageKeys} k on k.session_id = w.s and k.client_message_id = w.c`,
);

/**
 * The stored keys among `(sessionId, clientMessageId)` pairs, from `message_keys` (the events
 * themselves may be gone with their partition), in one query. Call it under the sessions' row
 * locks, in a statement after the one that took them (so its snapshot sees every key committed
 * before the locks were granted), as the append that follows is.
 */
export async function findMessageKeys(
  tx: Executor,
  wanted: readonly { sessionId: string; clientMessageId: string }[],
): Promise<Map<string, MessageKey>> {
  const found = new Map<string, MessageKey>();
  if (wanted.length === 0) return found;
  const result = await FIND_MESSAGE_KEYS.run(tx, {
    sessionIds: wanted.map((w) => w.sessionId),
    clientMessageIds: wanted.map((w) => w.clientMessageId),
  });
  const rows = (result as unknown as { rows: KeyRow[] }).rows;
  for (const row of rows) {
    found.set(messageKeyOf(row.session_id, row.client_message_id), {
      seq: Number(row.seq),
      createdAt: new Date(row.created_at).toISOString(),
      contentSha256: row.sha,
    });
  }
  return found;
}

interface KeyRow {
  session_id: string;
  client_message_id: string;
  seq: string | number;
  created_at: string | Date;
  sha: string;
}

/**
 * The answer to a `message.user` whose key is stored: the original event for the same content
 * (byte-equal UTF-8, compared by SHA-256), an {@link IdempotencyConflictError} for other content.
 */
export function repeatedMessage(
  sessionId: string,
  message: UserMessage,
  key: MessageKey,
): StoredEvent & { type: 'message.user' } {
  if (key.contentSha256 !== contentSha256(message.content)) {
    throw new IdempotencyConflictError(sessionId, message.clientMessageId);
  }
  return {
    sessionId,
    seq: key.seq,
    type: 'message.user',
    data: { clientMessageId: message.clientMessageId, content: message.content },
    createdAt: key.createdAt,
  } as StoredEvent & { type: 'message.user' };
}
