import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '@sessionwire/transport/protocol';
import { problemBody } from '../errors/problem';

/**
 * How long the API keeps an idle keep-alive connection: longer than the load balancers in front
 * of it keep theirs (nginx and ingress-nginx upstream keep-alive 60 s, AWS ALB 60 s), so the
 * balancer, never the API, closes an idle connection. Node's default (5 s) races the balancer:
 * a request written just as the API closes the connection fails, and a balancer never resends a
 * POST that reached a replica (it answers 502, which a browser's EventSource treats as final).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** How often Node looks for requests past their headers or request timeout. */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

export interface HttpServerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/**
 * Keep-alive, and the timeouts that keep slow or silent clients (slowloris) from holding
 * connections: a request must bring its headers within `headersTimeoutMs` of its first byte
 * (a connection that sends nothing at all counts from its opening) and its whole body within
 * `requestTimeoutMs`, else it gets 408. Neither touches a response once the request is in, so
 * a stream stays open as long as its client reads; an idle kept-alive connection between two
 * requests is governed by the keep-alive timeout alone. Errors Node meets before a request
 * reaches the app (a timeout, headers over Node's 16 KiB, a malformed request) are answered as
 * problem+json and the connection is closed.
 */
export function configureHttpServer(server: Server, timeouts: HttpServerTimeouts): void {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.requestTimeout = timeouts.requestTimeoutMs;
  // Read when the server starts listening (Node's default looks every 30 s); not in @types/node.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    TIMEOUT_CHECK_INTERVAL_MS;
  server.on('clientError', answerClientError);
}

type ClientErrorCode = Extract<
  ErrorCode,
  'request_timeout' | 'header_fields_too_large' | 'validation_failed'
>;

const DETAILS: Record<ClientErrorCode, string> = {
  request_timeout: 'the request did not arrive in time',
  header_fields_too_large: 'the request headers are too large',
  validation_failed: 'the request is not valid HTTP/1.1',
};

function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const code = clientErrorCode(error.code);
  const response = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!code || !socket.writable || response?.headersSent) {
    socket.destroy();
    return;
  }
  const problem = problemBody(code, DETAILS[code]);
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${problem.title}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

function clientErrorCode(code: string | undefined): ClientErrorCode | undefined {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout';
  if (code === 'HPE_HEADER_OVERFLOW') return 'header_fields_too_large';
  if (code?.startsWith('HPE_') && code !== 'HPE_INVALID_EOF_STATE') return 'validation_failed';
  return undefined;
}
