import { DomainError } from '@sessionwire/transport/protocol/domain-errors';
import { streamCursor } from './stream-cursor';

describe(streamCursor.name, () => {
  it('prefers Last-Event-ID over ?after=, even an invalid one', () => {
    expect(streamCursor('42', '7')).toBe(42);
    expect(streamCursor('42', 'abc')).toBe(42);
  });

  it('treats an empty header as absent', () => {
    expect(streamCursor('', '7')).toBe(7);
    expect(streamCursor(undefined, undefined)).toBe(0);
  });

  it.each(['-1', 'abc', '1e9999', '1.5', '9007199254740992', ''])(
    'refuses the cursor %p with validation_failed',
    (raw) => {
      const attempt = () => streamCursor(undefined, raw);
      expect(attempt).toThrow(DomainError);
      expect(attempt).toThrow(/after/);
      if (raw !== '') expect(() => streamCursor(raw, '1')).toThrow(/Last-Event-ID/);
    },
  );

  it('refuses a repeated ?after=', () => {
    expect(() => streamCursor(undefined, ['1', '2'])).toThrow(/once/);
  });
});
