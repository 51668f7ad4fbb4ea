import { ConfigError } from '../config/read-env';

/** What a failed start is logged through (a pino logger at its default level). */
export interface StartupLog {
  fatal(details: object, message: string): void;
}

export interface RunMainOptions {
  exit?: (code: number) => void;
  /**
   * The one plain line to print on stderr for a failure the user can fix (a busy port, a locked
   * data folder), or undefined to log it as fatal. For processes a person starts at a terminal.
   */
  describeFailure?: (error: unknown) => string | undefined;
  stderr?: (line: string) => void;
}

/**
 * Runs an app's `main`. If it throws (an invalid configuration, a port in use, a database that
 * refuses), the error is logged as fatal through `log` (a ConfigError as its message and variable,
 * without a stack), or printed as one line when `describeFailure` has one, and the process exits
 * with status 1.
 */
export function runMain(
  log: StartupLog,
  main: () => Promise<void>,
  options: RunMainOptions = {},
): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const stderr = options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  Promise.resolve()
    .then(main)
    .catch((error: unknown) => {
      const line = options.describeFailure?.(error);
      if (line !== undefined) stderr(line);
      else if (error instanceof ConfigError) log.fatal({ variable: error.variable }, error.message);
      else log.fatal({ err: error }, error instanceof Error ? error.message : 'startup failed');
      exit(1);
    });
}
