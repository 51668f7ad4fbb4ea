import type { Problem } from '../protocol';
import type { Clock } from './clock';
import { HttpError, NetworkError } from './errors';
import type { OfflineLimits } from './offline-watch';

/** A bearer credential: an API key or a session token, or a function that returns a fresh one. */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * How the SDK reaches Sessionwire; shared by `SessionStream` and `Outbox`. With no answer from any
 * base URL for `offlineAfterMs` (default 5000) they emit `offline` (and `online` when an answer
 * comes back); with `giveUpAfterMs` set they stop retrying after that long (default: never).
 */
export interface ConnectionOptions extends OfflineLimits {
  /**
   * Base URL of the API (`https://host`, without `/v1`), or several: requests start at the first and
   * move on to the next after a failure, so a client survives a node going away without a balancer.
   */
  baseUrl: string | readonly string[];
  sessionId: string;
  /** Sent as `Authorization: Bearer …`. */
  token?: TokenSource;
  /** `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
  /** Timers and time (default: the host's). */
  clock?: Clock;
  /** Uniform random in [0, 1) for jitter (default: `Math.random`). */
  random?: () => number;
}

/** Round-robin over the configured base URLs; `advance()` after a failure. */
export class BaseUrlRing {
  private readonly urls: string[];
  private index = 0;

  constructor(baseUrl: string | readonly string[]) {
    const list = typeof baseUrl === 'string' ? [baseUrl] : [...baseUrl];
    if (list.length === 0) throw new TypeError('baseUrl: at least one URL is required');
    this.urls = list.map((url) => url.replace(/\/+$/, ''));
  }

  get current(): string {
    return this.urls[this.index];
  }

  advance(): void {
    this.index = (this.index + 1) % this.urls.length;
  }
}

export async function resolveToken(token: TokenSource | undefined): Promise<string | undefined> {
  return typeof token === 'function' ? await token() : token;
}

export function sessionPath(sessionId: string, suffix: string): string {
  return `/v1/sessions/${encodeURIComponent(sessionId)}${suffix}`;
}

/** Reads a problem+json body if the response has one; never throws. */
export async function readProblem(response: Response): Promise<Problem | undefined> {
  try {
    const text = await response.text();
    const body = JSON.parse(text) as Partial<Problem>;
    return typeof body?.code === 'string' && typeof body.status === 'number'
      ? (body as Problem)
      : undefined;
  } catch {
    return undefined; // not problem+json: a proxy's page, an empty or cut-off body
  }
}

export interface JsonRequest {
  fetch: typeof fetch;
  clock: Clock;
  url: string;
  method: 'GET' | 'POST';
  token: TokenSource | undefined;
  body?: unknown;
  timeoutMs: number;
  /** Aborts the request from outside (e.g. `close()`). */
  signal?: AbortSignal;
}

export interface JsonResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * One JSON request with a timeout. Resolves for 2xx; rejects with `HttpError` (carrying the problem
 * and the response headers' `Retry-After` through `retryAfter`) or `NetworkError` (no answer).
 */
export async function requestJson<T>(req: JsonRequest): Promise<JsonResponse<T>> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = req.clock.setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs);
  const onOuterAbort = () => controller.abort();
  req.signal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    const token = await resolveToken(req.token);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await req.fetch(req.url, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: controller.signal,
      });
    } catch (error) {
      throw new NetworkError(
        timedOut
          ? `request timed out after ${req.timeoutMs} ms`
          : `request failed: ${String(error)}`,
        error,
        timedOut,
      );
    }
    if (!response.ok) {
      const problem = await readProblem(response);
      throw new ResponseError(response.status, problem, response.headers.get('retry-after'));
    }
    try {
      return {
        status: response.status,
        body: (await response.json()) as T,
        headers: response.headers,
      };
    } catch (error) {
      throw new NetworkError(`response body unreadable: ${String(error)}`, error, timedOut);
    }
  } finally {
    req.clock.clearTimeout(timer);
    req.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** An `HttpError` that also remembers the response's `Retry-After` header. */
export class ResponseError extends HttpError {
  constructor(
    status: number,
    problem: Problem | undefined,
    readonly retryAfter: string | null,
  ) {
    super(status, problem);
    this.name = 'HttpError';
  }
}
