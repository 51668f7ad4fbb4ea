import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  FlushScheduler,
  serveSse,
  type SseRequest,
  type SseStream,
  type SseStreamOptions,
} from '@sessionwire/transport/server';
import { SessionNotFoundError } from '@sessionwire/transport/protocol/domain-errors';
import cors from 'cors';
import { PinoLogger } from 'nestjs-pino';
import type { AccessRule } from '../auth/access.decorator';
import { Authenticator } from '../auth/authenticator';
import { corsHeaders, corsOptions } from '../common/cors.options';
import { unsupportedBody } from '../common/json-body.middleware';
import { rawHeader } from '../common/raw-headers';
import { ZodPipe } from '../common/zod.pipe';
import type { ApiConfig } from '../config/api-config';
import { API_CONFIG } from '../config/config.tokens';
import { ApiProblem, validationFailed } from '../errors/problem';
import { problemResponse, renderError } from '../errors/problem-response';
import { LifecycleService } from '../health/lifecycle.service';
import { LimitsService } from '../limits/limits.service';
import { StreamMetricsService } from '../health/stream-metrics.service';
import { requestId as requestIdOf } from '../logging/logger.options';
import { logRequest } from '../logging/request-log';
import { isClientGone, markExpected } from '../logging/request-outcome';
import { sessionIdSchema } from '../sessions/sessions.schemas';
import { streamCursor } from './stream-cursor';
import { StreamHubService } from './stream-hub.service';
import { streamPathId } from './stream-path';

const STREAM_ACCESS: AccessRule = { access: 'read', queryToken: true };

/** A stream request that passed the route's checks: credentials, session id, not draining. */
export interface AdmittedStream {
  sessionId: string;
  /** CORS and `X-Request-Id`, to send with the response's own headers. */
  headers: Record<string, string>;
  requestId: string;
  startedAt: number;
}

/** What {@link StreamRoute} knows of a stream once its credentials, id and node state passed. */
interface Admitted {
  sessionId: string;
  /** The credential the per-credential stream cap counts (a hash, never the secret). */
  credentialKey: string;
}

/**
 * Another stream served by {@link StreamRoute} beneath Express (the AI SDK's resume), with the
 * route's admission, refusals and request log.
 */
export interface StreamFrontEnd {
  /** The raw (still percent-encoded) `:id` of a request this front end serves, or undefined. */
  pathId(method: string, path: string): string | undefined;
  /**
   * Answers an admitted request; throws to refuse it (problem+json). Returns true when it left a
   * stream open, whose close then calls {@link StreamRoute.logClosed}.
   */
  open(res: ServerResponse, stream: AdmittedStream): Promise<boolean>;
}

/**
 * `GET /v1/sessions/:id/stream`, served beneath Express (see {@link serveBeneathExpress}) so that an
 * open stream costs what the engine and Node's own HTTP objects cost and nothing more: no Express
 * or Nest request objects, no pending promise, no per-request logger. It gives the answers the
 * rest of the API gives: CORS headers, a request id, problem+json refusals in the protocol's
 * order, and one request log line when the response is over.
 */
@Injectable()
export class StreamRoute {
  private readonly sse: SseStreamOptions;
  private readonly cors: ReturnType<typeof cors> | undefined;
  private readonly sessionId = new ZodPipe(sessionIdSchema, 'session id');
  private readonly errors = new Logger('Errors');
  private readonly frontEnds: StreamFrontEnd[] = [];

  constructor(
    private readonly streams: StreamHubService,
    private readonly lifecycle: LifecycleService,
    private readonly auth: Authenticator,
    private readonly pino: PinoLogger,
    private readonly limits: LimitsService,
    metrics: StreamMetricsService,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    const options = corsOptions(config);
    this.cors = options && cors(options);
    this.sse = {
      scheduler: new FlushScheduler(),
      metrics,
      maxBufferBytes: config.streamMaxBufferBytes,
      // The stream's slot and log line hang on the stream itself: no closure per stream.
      onClose: (stream) => {
        this.limits.streams.give(stream.sessionId, stream.credentialKey ?? '');
        this.logClosed(stream.response, stream.requestId ?? '', stream.startedAt);
      },
    };
  }

  /** Serves another stream with this route's checks (see {@link StreamFrontEnd}). */
  mount(frontEnd: StreamFrontEnd): void {
    this.frontEnds.push(frontEnd);
  }

  /**
   * Takes a GET or HEAD of the stream path (or a request a mounted front end serves) and returns
   * true; leaves anything else to Express.
   */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method ?? 'GET';
    const target = splitUrl(req.url ?? '/');
    for (const frontEnd of this.frontEnds) {
      const rawId = frontEnd.pathId(method, target.path);
      if (rawId === undefined) continue;
      void this.handle(req, res, rawId, target.query, frontEnd);
      return true;
    }
    if (method !== 'GET' && method !== 'HEAD') return false;
    const rawId = streamPathId(target.path);
    if (rawId === undefined) return false;
    void this.handle(req, res, rawId, target.query);
    return true;
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    rawId: string,
    query: string,
    frontEnd?: StreamFrontEnd,
  ): Promise<void> {
    const startedAt = Date.now();
    const requestId = requestIdOf(rawHeader(req, 'x-request-id'));
    // Sent with the stream's own headers in one writeHead: the response then keeps no header map.
    const headers = { ...this.corsHeaders(req), 'X-Request-Id': requestId };
    let open = false;
    try {
      const parsed = parseQuery(query);
      const admitted = await this.admit(req, rawId, parsed);
      if (frontEnd) {
        this.takeSlot(res, admitted);
        open = await frontEnd.open(res, {
          sessionId: admitted.sessionId,
          headers,
          requestId,
          startedAt,
        });
      } else {
        const request = await this.resolve(req, admitted.sessionId, parsed);
        open = this.openSse(res, { ...request, headers, requestId, startedAt }, admitted);
      }
    } catch (error) {
      this.refuse(req, res, error, headers);
    }
    if (!open) this.logClosed(res, requestId, startedAt);
  }

  /**
   * Every check that may refuse a stream before its cursor is read, in the protocol's order
   * (docs/protocol.md §8.8); returns the session id and the credential the stream caps count.
   */
  private async admit(
    req: IncomingMessage,
    rawId: string,
    query: ParsedUrlQuery,
  ): Promise<Admitted> {
    // Headers are read from rawHeaders: `req.headers` would stay built for the stream's whole life.
    const body = unsupportedBody((name) => rawHeader(req, name));
    if (body) throw body;
    const id = decodeParam(rawId);
    const credentials = {
      authorization: rawHeader(req, 'authorization'),
      accessToken: query.access_token,
    };
    await this.auth.authenticate(credentials, STREAM_ACCESS, id);
    const sessionId = this.sessionId.transform(id);
    if (this.lifecycle.draining) {
      throw new ApiProblem(
        'unavailable',
        'this node is draining; reconnect to another',
        { 'Retry-After': '1' },
        { expected: 'info' },
      );
    }
    return { sessionId, credentialKey: this.auth.credentialKey(credentials, STREAM_ACCESS) };
  }

  /**
   * The last check of a front end's stream: its slot under the caps (§8.15), given back when the
   * connection closes.
   */
  private takeSlot(res: ServerResponse, { sessionId, credentialKey }: Admitted): void {
    const release = this.limits.streams.acquire(sessionId, credentialKey);
    if (res.closed || res.socket === null || res.socket.destroyed) release();
    else res.once('close', release);
  }

  /**
   * Takes the stream's slot (§8.15) and serves it; the stream gives the slot back when it closes
   * (see the `onClose` of {@link sse}), and an answer that leaves no stream gives it back at once.
   */
  private openSse(res: ServerResponse, request: SseRequest, admitted: Admitted): boolean {
    const { sessionId, credentialKey } = admitted;
    this.limits.streams.take(sessionId, credentialKey);
    let stream: SseStream | undefined;
    try {
      stream = serveSse(this.streams.engine, res, { ...request, credentialKey }, this.sse);
    } finally {
      if (!stream) this.limits.streams.give(sessionId, credentialKey);
    }
    return !!stream;
  }

  /** The stream's cursor and the session's head (404 when there is none). */
  private async resolve(
    req: IncomingMessage,
    sessionId: string,
    query: ParsedUrlQuery,
  ): Promise<SseRequest> {
    const cursor = streamCursor(rawHeader(req, 'last-event-id'), query.after);
    const head = await this.streams.engine.resolveHead(sessionId, cursor);
    if (!head) throw new SessionNotFoundError(sessionId);
    return { sessionId, cursor, head };
  }

  private corsHeaders(req: IncomingMessage): Record<string, string> | undefined {
    if (!this.cors) return undefined;
    return corsHeaders(this.cors, {
      method: req.method,
      headers: { origin: rawHeader(req, 'origin') },
    });
  }

  /** A problem+json answer, as the global filter renders it; never a second response. */
  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    error: unknown,
    headers: Record<string, string>,
  ): void {
    const site = { method: req.method, path: splitUrl(req.url ?? '/').path };
    if (res.headersSent) {
      if (isClientGone(error)) this.errors.log(site, 'the client went away');
      else
        this.errors.error(
          { err: error, ...site },
          'error after the response started; closing the connection',
        );
      res.destroy();
      return;
    }
    if (error instanceof ApiProblem && error.options.expected) {
      markExpected(res, error.options.expected, error.message);
    }
    const problem = problemResponse(renderError(error, site, this.errors));
    res.statusCode = problem.status;
    for (const [name, value] of [...Object.entries(headers), ...problem.headers]) {
      res.setHeader(name, value);
    }
    res.end(problem.body);
  }

  /** The request's log line, once its response is over. */
  logClosed(res: ServerResponse, id: string, startedAt: number): void {
    const { method, url, readableAborted } = res.req;
    logRequest(this.pino.logger, { id, method, url }, res, startedAt, readableAborted);
  }
}

function splitUrl(url: string): { path: string; query: string } {
  if (!url.startsWith('/')) {
    // absolute-form request target (through some proxies)
    try {
      const parsed = new URL(url);
      return { path: parsed.pathname, query: parsed.search.slice(1) };
    } catch {
      return { path: url, query: '' };
    }
  }
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/** The `:id` parameter, decoded as Express decodes it (400 when it cannot be). */
function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw validationFailed(`Failed to decode param '${raw}'`);
  }
}
