import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { DomainError } from '@sessionwire/events';
import type { ErrorCode } from '@sessionwire/transport/protocol';
import type { Request, Response } from 'express';
import { v7 as uuidv7 } from 'uuid';
import { ApiProblem, problemBody, type ProblemExtensions } from './problem';
import { allowedMethods } from './route-methods';
import { isDatabaseUnavailable } from './unavailable';

const RETRY_AFTER_SECONDS = '5';

interface Rendered {
  code: ErrorCode;
  detail: string;
  headers?: Record<string, string>;
  errorId?: string;
  extensions?: ProblemExtensions;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'unavailable',
};

/**
 * Renders every error as `application/problem+json`. Once a response has started (an SSE stream)
 * it never writes: it logs and drops the connection.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      this.logger.warn(
        { err: exception, method: req.method, path: req.path },
        'error after the response started; closing the connection',
      );
      if (!res.destroyed) res.destroy();
      return;
    }
    const rendered = this.render(exception, req);
    const body = problemBody(rendered.code, rendered.detail, rendered.errorId, rendered.extensions);
    res.status(body.status);
    for (const [name, value] of Object.entries(rendered.headers ?? {})) res.setHeader(name, value);
    res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(JSON.stringify(body));
  }

  private render(exception: unknown, req: Request): Rendered {
    if (exception instanceof ApiProblem) {
      return {
        code: exception.code,
        detail: exception.message,
        headers: exception.headers,
        extensions: exception.extensions,
      };
    }
    if (exception instanceof DomainError)
      return { code: exception.code, detail: exception.message };
    if (exception instanceof HttpException) return this.renderHttp(exception, req);
    if (isDatabaseUnavailable(exception)) {
      this.logger.error(
        { err: exception, method: req.method, path: req.path },
        'database unavailable',
      );
      return {
        code: 'unavailable',
        detail: 'the service is temporarily unavailable; retry later',
        headers: { 'Retry-After': RETRY_AFTER_SECONDS },
      };
    }
    const errorId = uuidv7();
    this.logger.error(
      { err: exception, errorId, method: req.method, path: req.path },
      'internal error',
    );
    return {
      code: 'internal_error',
      detail: 'an internal error occurred; quote the errorId when reporting it',
      errorId,
    };
  }

  private renderHttp(exception: HttpException, req: Request): Rendered {
    const status = exception.getStatus();
    if (status === 404) {
      const allow = allowedMethods(req);
      if (allow.length > 0) {
        return {
          code: 'method_not_allowed',
          detail: `${req.method} is not allowed on ${req.path}; allowed: ${allow.join(', ')}`,
          headers: { Allow: allow.join(', ') },
        };
      }
      return { code: 'not_found', detail: `no route ${req.method} ${req.path}` };
    }
    const code = STATUS_CODES[status];
    if (code === 'unavailable') {
      return { code, detail: exception.message, headers: { 'Retry-After': RETRY_AFTER_SECONDS } };
    }
    if (code) return { code, detail: exception.message };
    if (status >= 500) {
      const errorId = uuidv7();
      this.logger.error({ err: exception, errorId }, 'internal error');
      return { code: 'internal_error', detail: 'an internal error occurred', errorId };
    }
    return { code: 'validation_failed', detail: exception.message };
  }
}
