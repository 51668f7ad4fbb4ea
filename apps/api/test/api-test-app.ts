import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DatabaseHandle } from '@sessionwire/events';
import type { DestinationStream } from 'pino';
import { RedisBroker, type Broker } from '@sessionwire/transport/server';
import {
  createTestDatabase,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '../../../test/database';
import { createApiApp } from '../src/bootstrap';
import { loadApiConfig, type ApiConfig } from '../src/config/api-config';

export const API_KEY = 'test-api-key-0123456789abcdef';
export const AUTH_SECRET = 'test-auth-secret-0123456789abcdef-0123456789';

export interface TestApi {
  url: string;
  app: NestExpressApplication;
  config: ApiConfig;
  db: TestDatabase;
  broker: RedisBroker;
  prefix: string;
  /** fetch relative to the API, with the API key unless `headers.authorization` is given. */
  request(method: string, path: string, init?: RequestOptions): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  auth?: string | null;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Serve on another database handle (fault injection); the test database is still created. */
  database?: DatabaseHandle;
  broker?: Broker;
  /** Receives the app's JSON log lines (set `LOG_LEVEL` in `env`; the default is silent). */
  logDestination?: DestinationStream;
}

/** The API in-process on a fresh test database and Redis prefix, listening on a free port. */
export async function startTestApi(options: StartOptions = {}): Promise<TestApi> {
  const db = await createTestDatabase();
  const prefix = testRedisPrefix();
  const config = loadApiConfig({
    DATABASE_URL: db.url,
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: prefix,
    API_KEYS: API_KEY,
    AUTH_SECRET,
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const broker = new RedisBroker({ url: testRedisUrl(), prefix });
  const app = await createApiApp(config, {
    database: options.database ?? db.handle,
    broker: options.broker ?? broker,
    logDestination: options.logDestination,
  });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    app,
    config,
    db,
    broker,
    prefix,
    request: (method, path, init = {}) => send(url, method, path, init),
    close: async () => {
      await app.close();
      await broker.close();
      await db.drop();
    },
  };
}

export async function send(
  base: string,
  method: string,
  path: string,
  init: RequestOptions = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...init.headers };
  const auth = init.auth === undefined ? API_KEY : init.auth;
  if (auth !== null) headers.authorization ??= `Bearer ${auth}`;
  let body: string | undefined;
  if (typeof init.body === 'string') body = init.body;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  if (/json/.test(res.headers.get('content-type') ?? '') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, body: parsed };
}
