import { applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiSecurity,
} from '@nestjs/swagger';
import { SESSION_STATES } from '@sessionwire/transport/protocol';

type Status = number;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const problem = (status: Status, description: string) =>
  ApiResponse({
    status,
    description,
    content: { 'application/problem+json': { schema: ref('Problem') } },
  });

const QUERIES = {
  list: [
    { name: 'state', enum: [...SESSION_STATES], description: 'only sessions in this state' },
    { name: 'limit', type: Number, description: '1..200, default 50; above 200 → 200' },
    { name: 'cursor', type: String, description: "the previous page's opaque `nextCursor`" },
  ],
  events: [
    { name: 'after', type: Number, description: 'events with seq > after (default 0)' },
    { name: 'before', type: Number, description: 'the `limit` events just below this seq' },
    { name: 'limit', type: Number, description: '1..1000, default 100; above 1000 → 1000' },
  ],
  stream: [
    { name: 'after', type: Number, description: 'cursor when no Last-Event-ID header is sent' },
    { name: 'access_token', type: String, description: 'a session token (EventSource)' },
  ],
} as const;

const ERROR_TEXT: Record<number, string> = {
  400: 'validation_failed: malformed id, query or body',
  401: 'unauthorized: missing or invalid credentials',
  403: 'forbidden: token for another session, missing scope, or an API key is needed',
  404: 'session_not_found',
  409: 'session_ended or idempotency_conflict',
  410: 'history_expired: retention removed events asked for; `oldestSeq` is the first one left',
  413: 'payload_too_large: body over the limit or content over MAX_MESSAGE_BYTES',
  415: 'unsupported_media_type: a body that is not application/json',
  429: 'rate_limited: a per-session or per-credential limit on open streams or messages (Retry-After)',
  500: 'internal_error: generic text with an errorId',
  503: 'unavailable: draining or Postgres unreachable (Retry-After)',
};

/**
 * The problem responses of an operation documented by hand (a route served beneath Express), as
 * {@link ApiDoc} documents them.
 */
export function problemResponseObjects(statuses: Status[]): Record<string, object> {
  const entries = [...statuses].sort().map((status) => [
    String(status),
    {
      description: ERROR_TEXT[status],
      content: { 'application/problem+json': { schema: ref('Problem') } },
    },
  ]);
  return Object.fromEntries(entries);
}

export interface ApiDocOptions {
  id?: boolean;
  body?: string;
  query?: keyof typeof QUERIES;
  ok: [Status, string] | [Status, string, string];
  also?: [Status, string, string][];
  auth: 'api_key' | 'read' | 'write' | 'public';
  errors?: Status[];
  /** Success content type other than JSON (the stream). */
  okContent?: Record<string, unknown>;
  lastEventId?: boolean;
}

/** OpenAPI description of one route: parameters, body, success and problem responses, auth. */
export function ApiDoc(o: ApiDocOptions): MethodDecorator {
  const decorators = [];
  if (o.id) decorators.push(ApiParam({ name: 'id', format: 'uuid', description: 'session id' }));
  for (const q of o.query ? QUERIES[o.query] : []) {
    decorators.push(ApiQuery({ required: false, ...q } as Parameters<typeof ApiQuery>[0]));
  }
  if (o.lastEventId) {
    decorators.push(
      ApiHeader({
        name: 'Last-Event-ID',
        required: false,
        description: 'resume cursor; wins over ?after= (an empty header counts as absent)',
      }),
    );
  }
  if (o.body) decorators.push(ApiBody({ schema: ref(o.body) }));
  const [status, schema, description] = o.ok;
  decorators.push(
    o.okContent
      ? ApiResponse({ status, description, content: o.okContent as never })
      : ApiResponse({ status, description: description ?? 'success', schema: ref(schema) }),
  );
  for (const [s, name, text] of o.also ?? []) {
    decorators.push(ApiResponse({ status: s, description: text, schema: ref(name) }));
  }
  const statuses = new Set<Status>([400, 500, 503, ...(o.errors ?? [])]);
  if (o.auth !== 'public') {
    statuses.add(401).add(403);
    decorators.push(ApiBearerAuth('bearer'));
    if (o.query === 'stream') decorators.push(ApiSecurity('access_token'));
  }
  if (o.id) statuses.add(404);
  if (o.body) statuses.add(413).add(415);
  for (const s of [...statuses].sort()) decorators.push(problem(s, ERROR_TEXT[s]));
  return applyDecorators(...decorators);
}
