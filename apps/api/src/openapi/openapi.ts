import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AGENT_NAMES, AGENTS } from '@sessionwire/agents';
import {
  ACTIVITIES,
  ERROR_CODES,
  EVENT_TYPES,
  SESSION_STATES,
} from '@sessionwire/transport/protocol';
import { z } from 'zod';
import { AI_SDK_STREAM_OPERATION } from '../ai-sdk/ai-sdk.openapi';
import { AI_SDK_STREAM_OPENAPI_PATH } from '../ai-sdk/ai-sdk-path';
import { chatRequestSchema } from '../ai-sdk/ai-sdk.schemas';
import { STREAM_OPERATION } from '../streams/stream.openapi';
import { STREAM_OPENAPI_PATH } from '../streams/stream-path';
import {
  createSessionSchema,
  mintTokenSchema,
  postMessageSchema,
} from '../sessions/sessions.schemas';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const int = { type: 'integer', minimum: 0 };
const str = { type: 'string' };
const obj = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({
  type: 'object',
  properties,
  required,
});
const input = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input' }) as object;

/** `agent` of a new session: the names the API accepts, each with its one-line description. */
const agentDescriptions = AGENT_NAMES.map((name) => AGENTS[name].description);
const AGENT = {
  type: 'string',
  enum: [...AGENT_NAMES],
  default: 'demo',
  description: [
    'The agent that answers.',
    ...AGENT_NAMES.map((name, i) => `\`${name}\`: ${agentDescriptions[i]}`),
  ].join(' '),
  'x-enum-descriptions': agentDescriptions,
};

function createSessionRequest(): object {
  const schema = z.toJSONSchema(createSessionSchema, { io: 'input' });
  return { ...schema, properties: { ...schema.properties, agent: AGENT } };
}

const SCHEMAS: Record<string, object> = {
  CreateSessionRequest: createSessionRequest(),
  PostMessageRequest: input(postMessageSchema),
  MintTokenRequest: input(mintTokenSchema),
  ChatRequest: {
    ...input(chatRequestSchema),
    description:
      "DefaultChatTransport's body; only the last message is read: a user message whose id is " +
      'the clientMessageId and whose text parts joined are the content',
  },
  UIMessages: {
    type: 'array',
    description:
      "the AI SDK's UIMessage: user messages (id = clientMessageId), one assistant message per turn (id = turn id)",
    items: obj({
      id: str,
      role: { enum: ['user', 'assistant'] },
      parts: { type: 'array', items: { type: 'object', additionalProperties: true } },
    }),
  },
  Session: obj({
    id: { type: 'string', format: 'uuid' },
    agent: str,
    state: { enum: [...SESSION_STATES] },
    activity: { enum: [...ACTIVITIES] },
    headSeq: int,
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    metadata: { type: 'object', additionalProperties: true },
  }),
  SessionList: obj({
    sessions: { type: 'array', items: ref('Session') },
    nextCursor: { type: ['string', 'null'], description: 'opaque; null at the end' },
  }),
  Event: obj({
    sessionId: { type: 'string', format: 'uuid' },
    seq: { type: 'integer', minimum: 1 },
    type: { enum: [...EVENT_TYPES] },
    data: { type: 'object', description: 'by type, see docs/protocol.md §2' },
    createdAt: { type: 'string', format: 'date-time' },
  }),
  EventsPage: obj({
    sessionId: { type: 'string', format: 'uuid' },
    events: { type: 'array', items: ref('Event') },
    headSeq: int,
    state: { enum: [...SESSION_STATES] },
    activity: { enum: [...ACTIVITIES] },
    hasMore: { type: 'boolean', description: 'after: newer events exist; before: older exist' },
  }),
  MessageAccepted: obj({
    sessionId: { type: 'string', format: 'uuid' },
    seq: { type: 'integer', minimum: 1 },
    clientMessageId: str,
    duplicate: { type: 'boolean' },
  }),
  InterruptAccepted: obj({
    sessionId: { type: 'string', format: 'uuid' },
    turnId: { type: ['string', 'null'], description: 'null: no running turn, nothing appended' },
  }),
  TokenIssued: obj({ token: str, expiresAt: { type: 'string', format: 'date-time' } }),
  Problem: obj(
    {
      type: { type: 'string', format: 'uri' },
      title: str,
      status: { type: 'integer' },
      detail: str,
      code: { enum: Object.keys(ERROR_CODES) },
      errorId: { type: 'string', description: 'internal_error only; also in the server log' },
      oldestSeq: {
        type: 'integer',
        minimum: 1,
        description: 'history_expired only: the first seq still stored (older ones were removed)',
      },
    },
    ['type', 'title', 'status', 'detail', 'code'],
  ),
  Health: obj(
    {
      status: str,
      redisCluster: {
        ...obj({ state: { enum: ['ok', 'fail', 'unknown'] }, masters: int }),
        description: 'with REDIS_CLUSTER_NODES: fail while a slot has no live master (degraded)',
      },
    },
    ['status'],
  ),
};

/** The OpenAPI 3 document of every route (served at /openapi.json and /docs). */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Sessionwire API')
    .setDescription(
      'Resumable, loss-free streaming of AI-agent sessions. Errors are application/problem+json. ' +
        'The full contract is docs/protocol.md.',
    )
    .setVersion('1')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'an API key or a session token (JWT)' },
      'bearer',
    )
    .addApiKey(
      { type: 'apiKey', in: 'query', name: 'access_token', description: 'stream only' },
      'access_token',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // Served beneath Express, so Nest's explorer does not see it.
  document.paths[STREAM_OPENAPI_PATH] = { get: STREAM_OPERATION as never };
  document.paths[AI_SDK_STREAM_OPENAPI_PATH] = { get: AI_SDK_STREAM_OPERATION as never };
  document.components = {
    ...document.components,
    schemas: { ...(document.components?.schemas ?? {}), ...(SCHEMAS as object) },
  };
  return document;
}

export function mountOpenApi(app: INestApplication): void {
  const document = buildOpenApi(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json' });
}
