import type { Request } from 'express';

export type Scope = 'read' | 'write';

/** Who made a request: an API key holder, a session-scoped token, or anyone (auth disabled). */
export type Principal =
  | { kind: 'api_key' }
  | { kind: 'session_token'; sessionId: string; scopes: ReadonlySet<Scope> }
  | { kind: 'open' };

/** What a route needs: nothing, an API key, or read/write access to the session in `:id`. */
export type Access = 'public' | 'api_key' | Scope;

export interface AccessOptions {
  /** Also accept `?access_token=` (the stream only: `EventSource` cannot send headers). */
  queryToken?: boolean;
  /** The session is named by the body's `id`, not the path (the AI SDK's chat POST). */
  sessionInBody?: boolean;
}

export type AuthedRequest = Request & { principal?: Principal };
