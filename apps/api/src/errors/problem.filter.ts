import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { ErrorCode } from '@sessionwire/transport/protocol';
import type { Request, Response } from 'express';
import { v7 as uuidv7 } from 'uuid';
import { isClientGone, markExpected } from '../logging/request-outcome';
import { ApiProblem } from './problem';
import {
  problemResponse,
  renderError,
  RETRY_AFTER_SECONDS,
  type Rendered,
} from './problem-response';
import { allowedMethods } from './route-methods';

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/**
 * Renders every error as `application/problem+json`. Once a response has started (an SSE stream)
 * it never writes: it logs and drops the connection. Faults are logged at `error` with their
 * stack; an answer by design (`ApiProblem` with `expected`) and a client that went away are not.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      if (isClientGone(exception)) {
        this.logger.log({ method: req.method, path: req.path }, 'the client went away');
      } else {
        this.logger.error(
          { err: exception, method: req.method, path: req.path },
          'error after the response started; closing the connection',
        );
      }
      if (!res.destroyed) res.destroy();
      return;
    }
    if (exception instanceof ApiProblem && exception.options.expected) {
      markExpected(res, exception.options.expected, exception.message);
    }
    const rendered =
      exception instanceof HttpException
        ? this.renderHttp(exception, req)
        : renderError(exception, { method: req.method, path: req.path }, this.logger);
    const { status, headers, body } = problemResponse(rendered);
    res.status(status);
    for (const [name, value] of headers) res.setHeader(name, value);
    res.end(body);
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
