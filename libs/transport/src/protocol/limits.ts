/** Largest cursor value: JSON numbers are exact up to 2^53 - 1. */
export const MAX_CURSOR = Number.MAX_SAFE_INTEGER;

/** `clientMessageId`: 1–128 chars of [A-Za-z0-9._:-]. */
export const CLIENT_MESSAGE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Parses a cursor (`after`, `before`, `Last-Event-ID`): a decimal integer 0..2^53-1.
 * Returns undefined for anything else (negative, fractional, exponent, overflow, junk).
 */
export function parseCursor(raw: string): number | undefined {
  if (!/^\d{1,16}$/.test(raw)) return undefined;
  const value = Number(raw);
  return value <= MAX_CURSOR ? value : undefined;
}
