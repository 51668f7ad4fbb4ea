import type { Problem } from '../protocol';

/** Base class of every error the SDK raises, so applications can tell them apart. */
export class SessionwireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The server answered with a non-success status; `problem` is its problem+json body when sent. */
export class HttpError extends SessionwireError {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    message = problem ? `${status} ${problem.code}: ${problem.detail}` : `HTTP ${status}`,
  ) {
    super(message);
  }

  get code(): string | undefined {
    return this.problem?.code;
  }
}

/** The request did not get an answer: the network failed or the per-request timeout passed. */
export class NetworkError extends SessionwireError {
  constructor(
    message: string,
    override readonly cause?: unknown,
    readonly timedOut = false,
  ) {
    super(message);
  }
}

/** `Outbox.send` refused the message because `maxPending` messages are already waiting. */
export class OutboxFullError extends SessionwireError {
  constructor(readonly maxPending: number) {
    super(`outbox is full: ${maxPending} messages are pending`);
  }
}

/** The outbox was closed; nothing more can be sent through it. */
export class OutboxClosedError extends SessionwireError {
  constructor() {
    super('outbox is closed');
  }
}

/** The server sent a frame that does not fit the protocol; the frame was skipped. */
export class ProtocolError extends SessionwireError {
  constructor(
    message: string,
    readonly frame?: { event?: string; id?: string; data: string },
  ) {
    super(message);
  }
}

/**
 * No server answered for `giveUpAfterMs`: the stream closed (reason `offline`) or the outbox failed
 * its pending messages. `cause` is the last failure.
 */
export class OfflineError extends SessionwireError {
  constructor(
    readonly offlineMs: number,
    override readonly cause: Error,
  ) {
    super(`gave up after ${offlineMs} ms without an answer: ${cause.message}`);
  }
}
