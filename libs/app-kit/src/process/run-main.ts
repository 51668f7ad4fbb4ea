import { ConfigError } from '../config/read-env';

/** What a failed start is logged through (a pino logger at its default level). */
export interface StartupLog {
  fatal(details: object, message: string): void;
}

/**
 * Runs an app's `main`. If it throws (an invalid configuration, a port in use, a database that
 * refuses), the error is logged as fatal through `log` (a ConfigError as its message and variable,
 * without a stack) and the process exits with status 1.
 */
export function runMain(
  log: StartupLog,
  main: () => Promise<void>,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  Promise.resolve()
    .then(main)
    .catch((error: unknown) => {
      if (error instanceof ConfigError) log.fatal({ variable: error.variable }, error.message);
      else log.fatal({ err: error }, error instanceof Error ? error.message : 'startup failed');
      exit(1);
    });
}
