import { SignJWT } from 'jose';
import { API_KEY, startTestApi, type TestApi } from '../../test/api-test-app';
import { AuthGuard } from './auth.guard';

describe(AuthGuard.name, () => {
  let api: TestApi;
  let x: string;
  let y: string;
  let readX: string;
  let writeX: string;

  const mint = async (id: string, scope: string[], ttlSeconds?: number) => {
    const res = await api.request('POST', `/v1/sessions/${id}/tokens`, {
      body: { scope, ttlSeconds },
    });
    expect(res.status).toBe(201);
    return res.body as { token: string; expiresAt: string };
  };

  beforeAll(async () => {
    api = await startTestApi();
    x = (await api.request('POST', '/v1/sessions', { body: {} })).body.id;
    y = (await api.request('POST', '/v1/sessions', { body: {} })).body.id;
    readX = (await mint(x, ['read'])).token;
    writeX = (await mint(x, ['read', 'write'])).token;
  });
  afterAll(() => api.close());

  it('refuses a request without credentials or with a wrong one (401)', async () => {
    for (const auth of [null, 'not-a-key', `${API_KEY}x`, 'a.b.c']) {
      const res = await api.request('GET', `/v1/sessions/${x}`, { auth });
      expect([auth, res.status, res.body.code]).toEqual([auth, 401, 'unauthorized']);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    }
    const basic = await api.request('GET', '/v1/sessions', {
      auth: null,
      headers: { authorization: `Basic ${API_KEY}` },
    });
    expect(basic.status).toBe(401);
  });

  it('mints tokens with the requested lifetime', async () => {
    const before = Date.now();
    const { token, expiresAt } = await mint(x, ['read'], 120);
    expect(token.split('.')).toHaveLength(3);
    const expires = Date.parse(expiresAt);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 119_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 121_000);
    const defaults = await mint(x, ['read']);
    expect(Date.parse(defaults.expiresAt)).toBeGreaterThan(Date.now() + 3590_000);
  });

  it('lets a read token read its session but not post, interrupt or end (403)', async () => {
    expect((await api.request('GET', `/v1/sessions/${x}`, { auth: readX })).status).toBe(200);
    expect((await api.request('GET', `/v1/sessions/${x}/events`, { auth: readX })).status).toBe(
      200,
    );
    for (const [path, body] of [
      ['messages', { content: 'hi' }],
      ['interrupt', undefined],
      ['end', undefined],
    ] as const) {
      const res = await api.request('POST', `/v1/sessions/${x}/${path}`, { auth: readX, body });
      expect([path, res.status, res.body.code]).toEqual([path, 403, 'forbidden']);
    }
    expect(await api.db.store.getHeadSeq(x)).toBe(1);
  });

  it('lets a read+write token post to its session', async () => {
    const res = await api.request('POST', `/v1/sessions/${x}/messages`, {
      auth: writeX,
      body: { content: 'hi' },
    });
    expect(res.status).toBe(202);
  });

  it('never opens another session with a token (403)', async () => {
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/events'],
      ['GET', '/stream'],
      ['POST', '/interrupt'],
    ]) {
      const res = await api.request(method, `/v1/sessions/${y}${suffix}`, { auth: writeX });
      expect([suffix, res.status, res.body.code]).toEqual([suffix, 403, 'forbidden']);
    }
    const query = await api.request('GET', `/v1/sessions/${y}/stream?access_token=${readX}`, {
      auth: null,
    });
    expect(query.status).toBe(403);
  });

  it('keeps API-key routes (create, list, mint) away from tokens (403)', async () => {
    expect((await api.request('GET', '/v1/sessions', { auth: writeX })).status).toBe(403);
    expect((await api.request('POST', '/v1/sessions', { auth: writeX, body: {} })).status).toBe(
      403,
    );
    const mintWithToken = await api.request('POST', `/v1/sessions/${x}/tokens`, {
      auth: writeX,
      body: { scope: ['read'] },
    });
    expect(mintWithToken.status).toBe(403);
  });

  it('accepts ?access_token= on the stream only', async () => {
    const onEvents = await api.request('GET', `/v1/sessions/${x}/events?access_token=${readX}`, {
      auth: null,
    });
    expect(onEvents.status).toBe(401);
    const controller = new AbortController();
    const stream = await fetch(`${api.url}/v1/sessions/${x}/stream?access_token=${readX}`, {
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    controller.abort();
  });

  it('refuses expired, forged and wrongly signed tokens (401)', async () => {
    const short = await mint(x, ['read'], 1);
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await api.request('GET', `/v1/sessions/${x}`, { auth: short.token });
    expect(expired.status).toBe(401);
    const forged = await new SignJWT({ scope: ['read', 'write'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(x)
      .setAudience('sessionwire')
      .setIssuer('sessionwire-api')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-of-at-least-32-bytes!!'));
    expect((await api.request('GET', `/v1/sessions/${x}`, { auth: forged })).status).toBe(401);
    const [header, , signature] = readX.split('.');
    const widened = Buffer.from(
      JSON.stringify({ scope: ['read', 'write'], sub: y, exp: 4102444800 }),
    ).toString('base64url');
    const tampered = `${header}.${widened}.${signature}`;
    expect((await api.request('GET', `/v1/sessions/${y}`, { auth: tampered })).status).toBe(401);
  });

  it('refuses to mint without AUTH_SECRET (403)', async () => {
    const keysOnly = await startTestApi({ env: { AUTH_SECRET: '' } });
    try {
      const id = (await keysOnly.request('POST', '/v1/sessions', { body: {} })).body.id;
      const res = await keysOnly.request('POST', `/v1/sessions/${id}/tokens`, {
        body: { scope: ['read'] },
      });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
    } finally {
      await keysOnly.close();
    }
  });

  it('lets anyone in when neither API_KEYS nor AUTH_SECRET is set', async () => {
    const open = await startTestApi({ env: { API_KEYS: '', AUTH_SECRET: '' } });
    try {
      const res = await open.request('POST', '/v1/sessions', { auth: null, body: {} });
      expect(res.status).toBe(201);
      expect((await open.request('GET', '/v1/sessions', { auth: null })).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});
