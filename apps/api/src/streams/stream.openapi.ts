import { problemResponseObjects } from '../openapi/api-doc.decorator';

const SSE_EXAMPLE =
  'retry: 1000\n\nid: 42\nevent: message.delta\ndata: {"sessionId":"…","seq":42,' +
  '"type":"message.delta","data":{"turnId":"…","text":"Hel"},"createdAt":"…"}\n\n';

/** OpenAPI description of `GET /v1/sessions/{id}/stream` (served beneath Express). */
export const STREAM_OPERATION = {
  tags: ['streams'],
  operationId: 'StreamsController_stream',
  summary: 'Stream the session (SSE): every event after the cursor, then live',
  description:
    'Frames: stored events (id = seq), and control frames gap, live, heartbeat, end. ' +
    'Cursor: Last-Event-ID, else ?after=, else 0. 204 when the session is ENDED and the ' +
    'cursor is at head. See docs/protocol.md §4.',
  parameters: [
    {
      name: 'id',
      required: true,
      in: 'path',
      description: 'session id',
      schema: { format: 'uuid', type: 'string' },
    },
    {
      name: 'after',
      required: false,
      in: 'query',
      description: 'cursor when no Last-Event-ID header is sent',
      schema: { type: 'number' },
    },
    {
      name: 'access_token',
      required: false,
      in: 'query',
      description: 'a session token (EventSource)',
      schema: { type: 'string' },
    },
    {
      name: 'Last-Event-ID',
      in: 'header',
      description: 'resume cursor; wins over ?after= (an empty header counts as absent)',
      required: false,
      schema: { type: 'string' },
    },
  ],
  responses: {
    200: {
      description: 'text/event-stream',
      content: { 'text/event-stream': { schema: { type: 'string' }, example: SSE_EXAMPLE } },
    },
    204: { description: 'the session is ENDED and the cursor is at its head' },
    ...problemResponseObjects([400, 401, 403, 404, 429, 500, 503]),
  },
  security: [{ bearer: [] }, { access_token: [] }],
};
