import { constants } from 'node:os';
import { MAX_TIMER_MS } from '../config/parsers';

/** What the shutdown logs through (a pino logger). */
export interface ShutdownLog {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** The process, as far as stopping it goes (the real `process` unless a test passes its own). */
export interface SignalTarget {
  on(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  exit(code: number): void;
}

/** Plain lines for a person at a terminal (`npm start`), besides the log lines. */
export interface ShutdownAnnouncements {
  say(line: string): void;
  /** At the first signal: what draining means and how long it may take. */
  draining(signal: string): string;
  /** At a second signal: that the process stops now, and what that costs. */
  stopNow(signal: string): string;
}

export interface GracefulShutdownOptions {
  log: ShutdownLog;
  /** The drain's budget (`DRAIN_MS`, `WORKER_DRAIN_MS`): how long `stop` is expected to take. */
  drainMs: number;
  /** Drains and closes everything the process opened. */
  stop: () => Promise<void>;
  announce?: ShutdownAnnouncements;
}

/** Margin after the drain's budget before a stop that hangs is cut short. */
export const HARD_EXIT_MARGIN_MS = 15_000;

/**
 * A repeat within this time of the first signal is the same press: under `npm start` one Ctrl-C
 * reaches node twice (from the terminal's process group and forwarded by npm).
 */
export const SAME_PRESS_MS = 500;

/**
 * Stops the process gracefully on its first SIGTERM or SIGINT, the one way all three apps stop:
 *
 * - logs `draining` with the signal and `drainMs` (and says it, with `announce`), then runs
 *   `stop` once;
 * - logs `stopped` with `durationMs` and exits with status 0, or logs `shutdown failed` and exits
 *   with 1 if `stop` throws;
 * - exits with 1 (`shutdown took too long`) if stopping takes longer than `drainMs` + 15 s;
 * - a second signal, {@link SAME_PRESS_MS} or more after the first, stops at once: it logs (and
 *   says) so and exits with 128 + the signal's number, as a shell reports a process it killed.
 */
export function stopOnSignals(
  options: GracefulShutdownOptions,
  target: SignalTarget = process,
  now: () => number = Date.now,
): void {
  let stoppingSince: number | undefined;
  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
    if (stoppingSince === undefined) {
      stoppingSince = now();
      void drain(options, target, signal, now);
      return;
    }
    if (now() - stoppingSince < SAME_PRESS_MS) return;
    options.log.info({ signal }, 'second signal; stopping now');
    if (options.announce) options.announce.say(options.announce.stopNow(signal));
    target.exit(128 + constants.signals[signal]);
  };
  target.on('SIGTERM', () => onSignal('SIGTERM'));
  target.on('SIGINT', () => onSignal('SIGINT'));
}

async function drain(
  { log, drainMs, stop, announce }: GracefulShutdownOptions,
  target: SignalTarget,
  signal: string,
  now: () => number,
): Promise<void> {
  const started = now();
  log.info({ signal, drainMs }, 'draining');
  if (announce) announce.say(announce.draining(signal));
  setTimeout(
    () => {
      log.error({ durationMs: now() - started }, 'shutdown took too long; exiting');
      target.exit(1);
    },
    Math.min(drainMs + HARD_EXIT_MARGIN_MS, MAX_TIMER_MS),
  ).unref();
  try {
    await stop();
    log.info({ durationMs: now() - started }, 'stopped');
    if (announce) announce.say('stopped');
    target.exit(0);
  } catch (error) {
    log.error({ err: error }, 'shutdown failed');
    target.exit(1);
  }
}
