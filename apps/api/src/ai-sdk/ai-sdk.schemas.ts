import { CLIENT_MESSAGE_ID_PATTERN } from '@sessionwire/transport/protocol';
import { z } from 'zod';
import { sessionIdSchema } from '../sessions/sessions.schemas';

const partSchema = z.looseObject({ type: z.string(), text: z.unknown().optional() });

const messageSchema = z.looseObject({
  id: z.string(),
  role: z.string(),
  parts: z.array(partSchema),
});

/**
 * The body `DefaultChatTransport` posts (`{id, messages, trigger, messageId, …}`), PROTOCOL §9.
 * Only the last message is read; other fields an application adds are ignored.
 */
export const chatRequestSchema = z.looseObject({
  id: sessionIdSchema,
  messages: z.array(messageSchema).min(1, 'must hold the message to send'),
  trigger: z.string().optional(),
  messageId: z.string().nullish(),
});
export type ChatRequest = z.output<typeof chatRequestSchema>;

/** The message a chat POST sends: the last one, a user message with a usable id and text. */
export const sentMessageSchema = z.object({
  id: z.string().regex(CLIENT_MESSAGE_ID_PATTERN, 'must be 1-128 characters of [A-Za-z0-9._:-]'),
  role: z.literal('user', 'the last message must be a user message'),
  parts: z.array(partSchema),
});
