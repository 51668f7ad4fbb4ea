/** The AI SDK's resume path as OpenAPI names it (PROTOCOL §9), served beneath Express for GET. */
export const AI_SDK_STREAM_OPENAPI_PATH = '/v1/ai-sdk/chat/{id}/stream';

/** As Express matches `/v1/ai-sdk/chat/:id/stream`: any case, one optional trailing slash. */
const AI_SDK_STREAM_PATH = /^\/v1\/ai-sdk\/chat\/([^/]+)\/stream\/?$/i;

/** The raw (still percent-encoded) `:id` of a resume request, or undefined for any other. */
export function aiSdkStreamPathId(method: string, path: string): string | undefined {
  return method === 'GET' ? AI_SDK_STREAM_PATH.exec(path)?.[1] : undefined;
}
