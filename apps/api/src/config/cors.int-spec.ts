import { startTestApi, type TestApi } from '../../test/api-test-app';

describe('CORS', () => {
  let open: TestApi;
  let closed: TestApi;

  beforeAll(async () => {
    [open, closed] = await Promise.all([
      startTestApi({ env: { CORS_ORIGINS: 'https://app.example.com' } }),
      startTestApi(),
    ]);
  });
  afterAll(() => Promise.all([open.close(), closed.close()]));

  const preflight = (api: TestApi, origin: string) =>
    api.request('OPTIONS', '/v1/sessions', {
      auth: null,
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,last-event-id',
      },
    });

  it('answers a preflight from a configured origin with the headers the SDK needs', async () => {
    const res = await preflight(open, 'https://app.example.com');
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-allow-headers')).toContain('last-event-id');
    const get = await open.request('GET', '/healthz', {
      headers: { origin: 'https://app.example.com' },
    });
    expect(get.headers.get('access-control-expose-headers')).toContain('retry-after');
  });

  it('sends no CORS headers to other origins, or when CORS is not configured', async () => {
    const other = await preflight(open, 'https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const none = await preflight(closed, 'https://app.example.com');
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
  });
});
