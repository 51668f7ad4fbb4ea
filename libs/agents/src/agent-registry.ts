import type { AgentContext, AgentFactory, AgentRuntime } from './agent-runtime';

export class UnknownAgentError extends Error {
  constructor(readonly agent: string) {
    super(`no agent runtime is registered as "${agent}"`);
    this.name = 'UnknownAgentError';
  }
}

/** Agent runtimes by name (the session's `agent`). */
export class AgentRegistry {
  private readonly factories = new Map<string, AgentFactory>();

  constructor(
    private readonly context: AgentContext,
    registrations: Readonly<Record<string, AgentFactory>> = {},
  ) {
    for (const [name, factory] of Object.entries(registrations)) this.register(name, factory);
  }

  register(name: string, factory: AgentFactory): this {
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) {
      throw new Error(`invalid agent name "${name}": use 1-64 of [a-z0-9._-]`);
    }
    if (this.factories.has(name)) throw new Error(`agent "${name}" is already registered`);
    this.factories.set(name, factory);
    return this;
  }

  has(name: string): boolean {
    return this.factories.has(name);
  }

  names(): string[] {
    return [...this.factories.keys()].sort();
  }

  /** A new runtime for one turn; throws {@link UnknownAgentError} for an unregistered name. */
  create(name: string): AgentRuntime {
    const factory = this.factories.get(name);
    if (!factory) throw new UnknownAgentError(name);
    return factory(this.context);
  }
}
