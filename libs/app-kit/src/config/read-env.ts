import type { z } from 'zod';

/** The environment as a process sees it (`process.env`), or a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A variable is missing or invalid. The message names it: `invalid configuration: NAME …`. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the variables that `schema` names (its keys) from `env`, once. A variable that is empty or
 * only white space counts as unset (its default applies); any other value is given to the schema
 * as it is. Throws a {@link ConfigError} naming the first variable that is invalid.
 */
export function readEnv<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  env: Env,
): z.output<z.ZodObject<Shape>> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  return parsed.data;
}

/** `value`, or a {@link ConfigError} saying that `name` is required. */
export function required<T>(name: string, value: T | undefined): T {
  if (value === undefined) throw new ConfigError(name, 'is required');
  return value;
}
