import { redactUrl, serializeError } from './logger.options';

describe(serializeError.name, () => {
  it('drops query parameters (message content) from logged database errors', () => {
    const error = new Error(
      'Failed query: insert into "events" values ($1)\nparams: my secret text',
    );
    Object.assign(error, { params: ['my secret text'], query: 'insert …' });
    const serialized = serializeError(error);
    expect(JSON.stringify(serialized)).not.toContain('my secret text');
    expect(serialized.message).toBe(
      'Failed query: insert into "events" values ($1)\nparams: [redacted]',
    );
    expect(serialized.stack).toContain('params: [redacted]');
    expect(serialized.stack).toMatch(/\n\s+at /);
  });
});

describe(redactUrl.name, () => {
  it('hides access tokens in logged URLs', () => {
    expect(redactUrl('/v1/sessions/x/stream?after=3&access_token=eyJ.abc.def')).toBe(
      '/v1/sessions/x/stream?after=3&access_token=[redacted]',
    );
    expect(redactUrl('/v1/sessions/x/stream?access_token=t')).toBe(
      '/v1/sessions/x/stream?access_token=[redacted]',
    );
  });
});
