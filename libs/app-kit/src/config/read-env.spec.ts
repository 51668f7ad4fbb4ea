import { z } from 'zod';
import { integer, list, logLevel, port, url } from './parsers';
import { ConfigError, readEnv, required } from './read-env';

const schema = z.object({
  COUNT: integer(1, 10).default(3),
  NAME: z.string().optional(),
  TAGS: list(z.string().min(2, 'every tag must have at least 2 characters')).optional(),
  LEVEL: logLevel().default('info'),
});

describe(readEnv.name, () => {
  it('reads only the variables the schema names and applies defaults', () => {
    expect(readEnv(schema, { COUNT: '7', NAME: ' a b ', OTHER: 'x' })).toEqual({
      COUNT: 7,
      NAME: ' a b ',
      LEVEL: 'info',
    });
  });

  it('treats an empty or blank variable as unset', () => {
    expect(readEnv(schema, { COUNT: '', NAME: '   ', TAGS: '' })).toEqual({
      COUNT: 3,
      LEVEL: 'info',
    });
  });

  it('throws a ConfigError that names the variable', () => {
    const attempt = () => readEnv(schema, { COUNT: '11' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow('invalid configuration: COUNT must be an integer from 1 to 10');
    try {
      attempt();
    } catch (error) {
      expect((error as ConfigError).variable).toBe('COUNT');
    }
  });

  it('says what is required', () => {
    expect(() => required('DATABASE_URL', undefined)).toThrow(
      'invalid configuration: DATABASE_URL is required',
    );
    expect(required('DATABASE_URL', 'postgres://h/db')).toBe('postgres://h/db');
  });
});

describe('config parsers', () => {
  it.each(['-1', '1.5', '1e3', '0x10', ' 5', '5 ', '', '99999999999999999999'])(
    'integer refuses %p',
    (raw) => {
      expect(integer(0, 100).safeParse(raw).success).toBe(false);
    },
  );

  it('integer takes decimal digits within its bounds', () => {
    expect(integer(0, 100).parse('0')).toBe(0);
    expect(integer(0, 100).parse('100')).toBe(100);
    expect(integer(1, 100).safeParse('0').success).toBe(false);
    expect(port().safeParse('65536').success).toBe(false);
  });

  it('url takes only the given protocols', () => {
    const redis = url(['redis:', 'rediss:']);
    expect(redis.parse('rediss://h:6380')).toBe('rediss://h:6380');
    expect(redis.safeParse('http://h').error?.issues[0].message).toBe(
      'must be a URL (redis: or rediss:)',
    );
    expect(redis.safeParse('not a url').success).toBe(false);
  });

  it('list trims items, drops empty ones and checks each', () => {
    const tags = list(z.string().min(2));
    expect(tags.parse(' ab , cd,,')).toEqual(['ab', 'cd']);
    expect(tags.safeParse('ab,c').success).toBe(false);
  });

  it('logLevel lists the levels when it refuses one', () => {
    expect(logLevel().safeParse('loud').error?.issues[0].message).toBe(
      'must be one of fatal, error, warn, info, debug, trace, silent',
    );
  });
});
