import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { RedisBroker } from '@sessionwire/transport/server';
import {
  createTestDatabase,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '../../../test/database';
import { freePort, ManagedProcess } from '../../../test/process';
import { API_KEY, AUTH_SECRET, send, type RequestOptions, type TestResponse } from './api-test-app';
import { SseClient } from './sse-client';
import { TestProducer } from './test-producer';

const ENTRY = 'dist/apps/api/main.js';

export interface ApiNode {
  url: string;
  process: ManagedProcess;
  request(method: string, path: string, init?: RequestOptions): Promise<TestResponse>;
  stream(sessionId: string, headers?: Record<string, string>, query?: string): Promise<SseClient>;
}

export interface ApiCluster {
  a: ApiNode;
  b: ApiNode;
  db: TestDatabase;
  broker: RedisBroker;
  producer: TestProducer;
  createSession(messages?: number): Promise<string>;
  close(): Promise<void>;
}

/**
 * Two built API processes (`node dist/apps/api/main.js`) on one test database and Redis prefix,
 * plus a producer in the test process that writes and publishes like a worker.
 */
export async function startApiCluster(env: Record<string, string> = {}): Promise<ApiCluster> {
  if (!existsSync(resolve(__dirname, '../../..', ENTRY))) {
    throw new Error(`${ENTRY} is missing: run "npx nest build api" (npm run test:e2e does)`);
  }
  const db = await createTestDatabase();
  const prefix = testRedisPrefix();
  const broker = new RedisBroker({ url: testRedisUrl(), prefix });
  const node = async (name: string): Promise<ApiNode> => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const process = new ManagedProcess({
      name,
      entry: ENTRY,
      env: {
        PORT: String(port),
        DATABASE_URL: db.url,
        REDIS_URL: testRedisUrl(),
        REDIS_PREFIX: prefix,
        API_KEYS: API_KEY,
        AUTH_SECRET,
        LOG_LEVEL: 'warn',
        ...env,
      },
      readyUrl: `${url}/readyz`,
    });
    await process.start();
    return {
      url,
      process,
      request: (method, path, init) => send(url, method, path, init),
      stream: (sessionId, headers = {}, query = '') =>
        SseClient.open(`${url}/v1/sessions/${sessionId}/stream${query}`, {
          authorization: `Bearer ${API_KEY}`,
          ...headers,
        }),
    };
  };
  const [a, b] = await Promise.all([node('api-a'), node('api-b')]);
  const cluster: ApiCluster = {
    a,
    b,
    db,
    broker,
    producer: new TestProducer(db, broker),
    createSession: async (messages = 1) => {
      const id = (await b.request('POST', '/v1/sessions', { body: {} })).body.id as string;
      for (let i = 0; i < messages; i++) {
        await b.request('POST', `/v1/sessions/${id}/messages`, { body: { content: `m${i}` } });
      }
      return id;
    },
    close: async () => {
      await Promise.all([a.process.kill(), b.process.kill()]);
      await broker.close();
      await db.drop();
    },
  };
  return cluster;
}

/** Asserts that a client's events are exactly seqs `from..to`, in order. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
