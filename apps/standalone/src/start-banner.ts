/** Everything `npm start` says to the person who started it: plain lines, not JSON logs. */
import { DataDirLockedError } from './data-dir-lock';

export interface BannerOptions {
  port: number;
  mode: string;
  authEnabled: boolean;
  /** The playground is served (PLAYGROUND on and the page built). */
  playground: boolean;
}

export const DEMO_COMMANDS: readonly [string, string][] = [
  ['/stream N [delayMs]', 'streams N tokens t0 … t(N-1), delayMs apart'],
  ['/tool NAME', 'a tool call and its result, then "used NAME"'],
  ['/sleep MS', 'waits MS ms (interruptible), then says "slept"'],
  ['/fail', 'the agent throws mid-turn (agent.error, turn.completed error)'],
  ['/interrupt-fails MS', 'like /sleep, but its interrupt() throws and it ignores the abort'],
];

/** What `npm start` prints once it listens: where it runs, what to try, how to stop. */
export function startBanner(options: BannerOptions): string {
  const base = `http://localhost:${options.port}`;
  const auth = options.authEnabled ? ` -H "authorization: Bearer $API_KEY"` : '';
  const json = `-H 'content-type: application/json'`;
  const curl =
    `S=$(curl -s -X POST ${base}/v1/sessions${auth} ${json} -d '{}' | ` +
    `sed 's/.*"id":"\\([^"]*\\)".*/\\1/') && ` +
    `curl -s -X POST ${base}/v1/sessions/$S/messages${auth} ${json} -d '{"content":"hello"}' && echo && ` +
    `curl -sN ${base}/v1/sessions/$S/stream${auth}`;
  const width = Math.max(...DEMO_COMMANDS.map(([c]) => c.length));
  return [
    '',
    `Sessionwire is running (${options.mode})`,
    ...(options.playground ? [`  Playground  ${base}/`] : []),
    `  API         ${base}`,
    `  Docs        ${base}/docs`,
    '',
    'Create a session, send a message and stream the reply (Ctrl-C ends the stream):',
    ...(options.authEnabled ? ['(auth is on: export API_KEY=<one of your API_KEYS> first)'] : []),
    `  ${curl}`,
    '',
    'The demo agent answers "You said: …" to anything, and to these commands:',
    ...DEMO_COMMANDS.map(([command, what]) => `  ${command.padEnd(width)}  ${what}`),
    '',
    'Stop with Ctrl-C.',
    '',
  ].join('\n');
}

/** An error whose message is the whole story: printed as one line, without a stack. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

export function portInUse(port: number): StartupError {
  return new StartupError(
    `Port ${port} is already in use by another process; stop it, or choose another port with ` +
      `PORT (for example PORT=${port === 65535 ? port - 1 : port + 1} npm start).`,
  );
}

/** Said at the first Ctrl-C (or SIGTERM). */
export function drainMessage(signal: string, drainMs: number, workerDrainMs: number): string {
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  return (
    `${signal}: draining — open streams close over ${seconds(drainMs)} (clients resume ` +
    `elsewhere), running turns get up to ${seconds(workerDrainMs)} to finish. ` +
    `Press Ctrl-C again to stop now.`
  );
}

/** Said at the second Ctrl-C, just before the process exits. */
export function stopNowMessage(signal: string): string {
  return (
    `${signal} again: stopping now without draining; streams drop (clients resume from their ` +
    `cursor) and an unfinished turn ends as worker_lost at the next start.`
  );
}

/** The one line to print for a startup failure the user can fix; undefined for a real crash. */
export function startupFailureLine(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error instanceof StartupError || error instanceof DataDirLockedError) return error.message;
  return error.message.startsWith('invalid configuration:') ? error.message : undefined;
}
