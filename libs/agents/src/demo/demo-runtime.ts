import { randomUUID } from 'node:crypto';
import type { AgentEmit, AgentRuntime, AgentTurn } from '../agent-runtime';

const MAX_TOKENS = 1_000_000;
const MAX_MS = 3_600_000;
const CHUNK_CHARS = 4;
const MAX_CHUNKS = 32;
const CHUNK_DELAY_MS = 2;

export class DemoUsageError extends Error {
  constructor(usage: string) {
    super(`usage: ${usage}`);
    this.name = 'DemoUsageError';
  }
}

/**
 * The deterministic demo agent (PROTOCOL §6). Replies by the content's first word:
 * `/stream N [delayMs]`, `/sleep MS`, `/tool NAME`, `/fail`, `/interrupt-fails MS`, or else
 * `You said: <content>` in small chunks. A command with bad arguments fails the turn with its usage.
 */
export class DemoRuntime implements AgentRuntime {
  private failInterrupt = false;

  async run(turn: AgentTurn, signal: AbortSignal, emit: AgentEmit): Promise<void> {
    const [command, ...args] = turn.input.trim().split(/\s+/);
    switch (command) {
      case '/stream': {
        const usage = '/stream N [delayMs]';
        const count = integerArg(args[0], MAX_TOKENS, usage);
        const delayMs = args[1] === undefined ? 0 : integerArg(args[1], MAX_MS, usage);
        // Paced like a model's stream: token i is due (i + 1) × delayMs after the start, so a
        // timer that fires late (a busy worker) does not push every later token back.
        const startedAt = performance.now();
        for (let i = 0; i < count; i++) {
          await pause(delayMs && startedAt + (i + 1) * delayMs - performance.now(), signal);
          emit({ type: 'delta', text: `t${i} ` });
        }
        return;
      }
      case '/sleep': {
        await pause(integerArg(args[0], MAX_MS, '/sleep MS'), signal);
        emit({ type: 'delta', text: 'slept' });
        return;
      }
      case '/interrupt-fails': {
        this.failInterrupt = true;
        // Deliberately deaf to the abort signal: the runner must close the turn without us.
        await pause(integerArg(args[0], MAX_MS, '/interrupt-fails MS'));
        emit({ type: 'delta', text: 'slept' });
        return;
      }
      case '/tool': {
        const name = args[0];
        if (!name) throw new DemoUsageError('/tool NAME');
        const callId = randomUUID();
        emit({ type: 'tool.call', callId, name, input: {} });
        emit({ type: 'tool.result', callId, output: 'ok', isError: false });
        emit({ type: 'delta', text: `used ${name}` });
        return;
      }
      case '/fail': {
        emit({ type: 'delta', text: 'about to fail' });
        await pause(0, signal);
        throw new Error('the demo agent failed on purpose (/fail)');
      }
      default: {
        for (const chunk of chunks(`You said: ${turn.input}`)) {
          emit({ type: 'delta', text: chunk });
          await pause(CHUNK_DELAY_MS, signal);
        }
      }
    }
  }

  interrupt(): void {
    if (this.failInterrupt)
      throw new Error('the demo agent refused the interrupt (/interrupt-fails)');
  }
}

/** Splits text into at most 32 chunks of at least 4 characters, never inside a code point. */
export function chunks(text: string): string[] {
  const chars = Array.from(text);
  const size = Math.max(CHUNK_CHARS, Math.ceil(chars.length / MAX_CHUNKS));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

function integerArg(raw: string | undefined, max: number, usage: string): number {
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) > max) {
    throw new DemoUsageError(usage);
  }
  return Number(raw);
}

/** Waits `ms` (0 or less: yields to the event loop once); rejects when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const timer = ms > 0 ? setTimeout(done, ms) : undefined;
    const immediate = ms > 0 ? undefined : setImmediate(done);
    const onAbort = () => {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // A runtime that ignores its signal must not keep a stopping process alive.
    if (!signal) timer?.unref();
  });
}
