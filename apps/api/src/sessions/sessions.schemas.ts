import {
  CLIENT_MESSAGE_ID_PATTERN,
  parseCursor,
  SESSION_STATES,
} from '@sessionwire/transport/protocol';
import { z } from 'zod';

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const EVENTS_LIMIT = { default: 100, max: 1000 } as const;
export const SESSIONS_LIMIT = { default: 50, max: 200 } as const;
/** Largest `metadata` object, in bytes of JSON. */
export const MAX_METADATA_BYTES = 16 * 1024;

export const sessionIdSchema = z
  .string()
  .regex(UUID_PATTERN, 'must be a UUID')
  .transform((id) => id.toLowerCase());

export const cursorSchema = z.string().transform((raw, ctx) => {
  const value = parseCursor(raw);
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be an integer from 0 to 2^53-1' });
    return z.NEVER;
  }
  return value;
});

/** A positive integer limit; above `max` it is clamped, 0 or not a number is refused. */
const limitSchema = (bounds: { default: number; max: number }) =>
  z
    .string()
    .regex(/^\d{1,20}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1'))
    .transform((n) => Math.min(n, bounds.max))
    .default(bounds.default);

export const createSessionSchema = z
  .strictObject({
    agent: z.string().min(1).max(64).optional(),
    metadata: z
      .record(z.string(), z.unknown())
      .refine(
        (m) => Buffer.byteLength(JSON.stringify(m), 'utf8') <= MAX_METADATA_BYTES,
        `must be at most ${MAX_METADATA_BYTES} bytes of JSON`,
      )
      .optional(),
  })
  .default({});
export type CreateSessionBody = z.output<typeof createSessionSchema>;

export const listSessionsQuerySchema = z.object({
  state: z.enum(SESSION_STATES).optional(),
  limit: limitSchema(SESSIONS_LIMIT),
  cursor: z.string().min(1).max(200).optional(),
});
export type ListSessionsQuery = z.output<typeof listSessionsQuerySchema>;

export const eventsQuerySchema = z
  .object({
    after: cursorSchema.optional(),
    before: cursorSchema.optional(),
    limit: limitSchema(EVENTS_LIMIT),
  })
  .refine((q) => q.after === undefined || q.before === undefined, {
    message: 'use either after or before, not both',
  });
export type EventsQuery = z.output<typeof eventsQuerySchema>;

export const postMessageSchema = z.strictObject({
  clientMessageId: z
    .string()
    .regex(CLIENT_MESSAGE_ID_PATTERN, 'must be 1-128 characters of [A-Za-z0-9._:-]')
    .optional(),
  content: z.string().min(1, 'must not be empty'),
});
export type PostMessageBody = z.output<typeof postMessageSchema>;

export const mintTokenSchema = z.strictObject({
  scope: z
    .array(z.enum(['read', 'write']))
    .min(1)
    .max(2)
    .refine((s) => s.includes('read') && new Set(s).size === s.length, {
      message: 'must be ["read"] or ["read","write"]',
    }),
  ttlSeconds: z.number().int().min(1).max(86400).default(3600),
});
export type MintTokenBody = z.output<typeof mintTokenSchema>;
