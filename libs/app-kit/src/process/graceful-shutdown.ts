import { MAX_TIMER_MS } from '../config/parsers';

/** What the shutdown logs through (a pino logger). */
export interface ShutdownLog {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** The process, as far as stopping it goes (the real `process` unless a test passes its own). */
export interface SignalTarget {
  once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  exit(code: number): void;
}

export interface GracefulShutdownOptions {
  log: ShutdownLog;
  /** The drain's budget (`DRAIN_MS`, `WORKER_DRAIN_MS`): how long `stop` is expected to take. */
  drainMs: number;
  /** Drains and closes everything the process opened. */
  stop: () => Promise<void>;
}

/** Margin after the drain's budget before a stop that hangs is cut short. */
export const HARD_EXIT_MARGIN_MS = 15_000;

/**
 * Stops the process gracefully on its first SIGTERM or SIGINT, the one way all three apps stop:
 *
 * - logs `draining` with the signal and `drainMs`, then runs `stop` once (a later signal of the
 *   other kind changes nothing);
 * - logs `stopped` with `durationMs` and exits with status 0, or logs `shutdown failed` and exits
 *   with 1 if `stop` throws;
 * - exits with 1 (`shutdown took too long`) if stopping takes longer than `drainMs` + 15 s;
 * - a second signal of the same kind is not handled, so Node's default ends the process at once
 *   (Ctrl-C twice).
 */
export function stopOnSignals(
  options: GracefulShutdownOptions,
  target: SignalTarget = process,
): void {
  let stopping = false;
  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
    if (stopping) return;
    stopping = true;
    void drain(options, target, signal);
  };
  target.once('SIGTERM', () => onSignal('SIGTERM'));
  target.once('SIGINT', () => onSignal('SIGINT'));
}

async function drain(
  { log, drainMs, stop }: GracefulShutdownOptions,
  target: SignalTarget,
  signal: string,
): Promise<void> {
  const started = Date.now();
  log.info({ signal, drainMs }, 'draining');
  setTimeout(
    () => {
      log.error({ durationMs: Date.now() - started }, 'shutdown took too long; exiting');
      target.exit(1);
    },
    Math.min(drainMs + HARD_EXIT_MARGIN_MS, MAX_TIMER_MS),
  ).unref();
  try {
    await stop();
    log.info({ durationMs: Date.now() - started }, 'stopped');
    target.exit(0);
  } catch (error) {
    log.error({ err: error }, 'shutdown failed');
    target.exit(1);
  }
}
