import { EventEmitter } from 'node:events';
import {
  HARD_EXIT_MARGIN_MS,
  SAME_PRESS_MS,
  stopOnSignals,
  type ShutdownLog,
} from './graceful-shutdown';
import { ConfigError } from '../config/read-env';
import { runMain } from './run-main';

class FakeProcess extends EventEmitter {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

function recordingLog(): ShutdownLog & { lines: { message: string; details: object }[] } {
  const lines: { message: string; details: object }[] = [];
  const record = (details: object, message: string) => lines.push({ message, details });
  return { lines, info: record, error: record };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe(stopOnSignals.name, () => {
  afterEach(() => jest.useRealTimers());

  it('drains once on the first signal, logs it with the budget and the duration, exits 0', async () => {
    const target = new FakeProcess();
    const log = recordingLog();
    const stop = jest.fn(async () => undefined);
    stopOnSignals({ log, drainMs: 500, stop }, target);

    target.emit('SIGTERM');
    target.emit('SIGINT');
    await settle();

    expect(stop).toHaveBeenCalledTimes(1);
    expect(target.exits).toEqual([0]);
    expect(log.lines.map((l) => l.message)).toEqual(['draining', 'stopped']);
    expect(log.lines[0].details).toEqual({ signal: 'SIGTERM', drainMs: 500 });
    expect(log.lines[1].details).toEqual({ durationMs: expect.any(Number) });
  });

  it('stops at once with 128 + the signal number on a second signal, not on a repeat of the first', () => {
    const target = new FakeProcess();
    const log = recordingLog();
    const said: string[] = [];
    let clock = 1_000;
    stopOnSignals(
      {
        log,
        drainMs: 0,
        stop: () => new Promise(() => {}),
        announce: {
          say: (line) => said.push(line),
          draining: (signal) => `${signal}: draining`,
          stopNow: (signal) => `${signal} again: stopping now`,
        },
      },
      target,
      () => clock,
    );
    target.emit('SIGINT');
    clock += SAME_PRESS_MS - 1; // npm forwards the same Ctrl-C
    target.emit('SIGINT');
    expect(target.exits).toEqual([]);
    clock += 1;
    target.emit('SIGINT');
    expect(target.exits).toEqual([130]);
    expect(said).toEqual(['SIGINT: draining', 'SIGINT again: stopping now']);
    expect(log.lines.map((l) => l.message)).toEqual(['draining', 'second signal; stopping now']);
  });

  it('exits 1 when stopping fails', async () => {
    const target = new FakeProcess();
    const log = recordingLog();
    const failure = new Error('close failed');
    stopOnSignals({ log, drainMs: 0, stop: () => Promise.reject(failure) }, target);
    target.emit('SIGINT');
    await settle();
    expect(target.exits).toEqual([1]);
    expect(log.lines.at(-1)).toEqual({ message: 'shutdown failed', details: { err: failure } });
  });

  it('exits 1 when stopping takes longer than the drain plus the margin', () => {
    jest.useFakeTimers();
    const target = new FakeProcess();
    const log = recordingLog();
    stopOnSignals({ log, drainMs: 1000, stop: () => new Promise(() => {}) }, target);
    target.emit('SIGTERM');
    jest.advanceTimersByTime(1000 + HARD_EXIT_MARGIN_MS - 1);
    expect(target.exits).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(target.exits).toEqual([1]);
    expect(log.lines.at(-1)?.message).toBe('shutdown took too long; exiting');
  });
});

describe(runMain.name, () => {
  it('logs a failed start as fatal and exits 1', async () => {
    const fatal = jest.fn();
    const exits: number[] = [];
    const failure = new Error('listen EADDRINUSE: address already in use :::3000');
    runMain({ fatal }, () => Promise.reject(failure), { exit: (code) => exits.push(code) });
    await settle();
    expect(fatal).toHaveBeenCalledWith({ err: failure }, failure.message);
    expect(exits).toEqual([1]);
  });

  it('logs an invalid configuration as one line naming the variable, also when thrown at once', async () => {
    const fatal = jest.fn();
    const exits: number[] = [];
    const main = () => {
      throw new ConfigError('PORT', 'must be an integer from 0 to 65535');
    };
    runMain({ fatal }, main, { exit: (code) => exits.push(code) });
    await settle();
    expect(fatal).toHaveBeenCalledWith(
      { variable: 'PORT' },
      'invalid configuration: PORT must be an integer from 0 to 65535',
    );
    expect(exits).toEqual([1]);
  });

  it('does nothing more when main succeeds', async () => {
    const fatal = jest.fn();
    const exits: number[] = [];
    runMain({ fatal }, async () => undefined, { exit: (code) => exits.push(code) });
    await settle();
    expect(fatal).not.toHaveBeenCalled();
    expect(exits).toEqual([]);
  });

  it('prints the one line a failure the user can fix has, instead of a fatal log', async () => {
    const fatal = jest.fn();
    const exits: number[] = [];
    const lines: string[] = [];
    runMain({ fatal }, () => Promise.reject(new Error('port 3000 is in use')), {
      exit: (code) => exits.push(code),
      stderr: (line) => lines.push(line),
      describeFailure: (error) => (error as Error).message,
    });
    await settle();
    expect(lines).toEqual(['port 3000 is in use']);
    expect(fatal).not.toHaveBeenCalled();
    expect(exits).toEqual([1]);
  });
});
