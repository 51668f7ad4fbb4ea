import { problemResponseObjects } from '../openapi/api-doc.decorator';

const UI_STREAM_EXAMPLE =
  'data: {"type":"start","messageId":"…"}\n\ndata: {"type":"start-step"}\n\n' +
  'data: {"type":"text-start","id":"…:0"}\n\ndata: {"type":"text-delta","id":"…:0","delta":"Hel"}\n\n';

/** OpenAPI description of `GET /v1/ai-sdk/chat/{id}/stream` (served beneath Express). */
export const AI_SDK_STREAM_OPERATION = {
  tags: ['ai-sdk'],
  operationId: 'AiSdkController_stream',
  summary: 'Resume the chat (AI SDK): the current turn replayed from its start, then live',
  description:
    'A UI message stream (x-vercel-ai-ui-message-stream: v1) of the running or waiting turn, ' +
    'from its turn.started to its finish, then [DONE]; heartbeats are SSE comments. 204 when ' +
    'nothing runs or waits. See docs/protocol.md §9 and docs/ai-sdk.md.',
  parameters: [
    {
      name: 'id',
      required: true,
      in: 'path',
      description: 'session id (the chat id)',
      schema: { format: 'uuid', type: 'string' },
    },
  ],
  responses: {
    200: {
      description: 'text/event-stream',
      content: { 'text/event-stream': { schema: { type: 'string' }, example: UI_STREAM_EXAMPLE } },
    },
    204: { description: 'no turn is running or waiting' },
    ...problemResponseObjects([400, 401, 403, 404, 500, 503]),
  },
  security: [{ bearer: [] }, { access_token: [] }],
};
