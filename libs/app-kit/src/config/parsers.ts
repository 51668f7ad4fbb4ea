import { z } from 'zod';

/**
 * Parsers of single variables, for the schemas given to `readEnv`. Each takes the raw string and
 * says what it expects when the value is wrong (the message follows the variable's name).
 */

/** The longest delay a Node timer takes; a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A whole number written in decimal digits only (no sign, exponent, point or spaces). */
export function integer(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d+$/, message)
    .transform(Number)
    .pipe(z.number().int().min(min, message).max(max, message));
}

/** A TCP port; 0 lets the system pick a free one. */
export function port() {
  return integer(0, 65_535);
}

/** An absolute URL whose protocol is one of `protocols` (written with the colon: `redis:`). */
export function url(protocols: readonly string[]) {
  return z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL (${protocols.join(' or ')})`,
  );
}

/** A comma-separated list; items are trimmed, empty items dropped, each checked by `item`. */
export function list<Item extends z.ZodType<unknown, string>>(item: Item) {
  return z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A pino log level. */
export function logLevel() {
  return z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` });
}

/** `on` or `off` (the project's switches, e.g. `PLAYGROUND`), as a boolean. */
export function onOff() {
  return z.enum(['on', 'off'], { message: 'must be on or off' }).transform((v) => v === 'on');
}
