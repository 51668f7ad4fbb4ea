import type { AgentFactory } from './agent-runtime';
import { DemoRuntime } from './demo/demo-runtime';
import { OpenAiRuntime } from './openai/openai-runtime';

/** One agent a session may name. */
export interface AgentDefinition {
  /** One line for someone choosing an agent (the OpenAPI document, the playground). */
  description: string;
  /** Creates the runtime of one turn (on a worker). */
  create: AgentFactory;
}

/**
 * The agents Sessionwire ships, by the session's `agent` name. The API accepts exactly these names
 * (anything else is refused with 400) and every worker runs them. Add yours here.
 */
export const AGENTS: Readonly<Record<string, AgentDefinition>> = {
  demo: {
    description:
      'Deterministic and offline: /stream N [delayMs], /sleep MS, /tool NAME, /fail, ' +
      '/interrupt-fails MS; anything else is echoed back.',
    create: () => new DemoRuntime(),
  },
  openai: {
    description:
      'Streams the reply of an OpenAI-compatible chat completions endpoint (OPENAI_BASE_URL, ' +
      'OPENAI_MODEL), with the conversation so far.',
    create: (context) => new OpenAiRuntime(context.openai),
  },
};

/** The names of {@link AGENTS}, in their order. */
export const AGENT_NAMES: readonly string[] = Object.keys(AGENTS);

/** The runtime factories of {@link AGENTS}, by name (what a worker registers). */
export const BUILT_IN_AGENTS: Readonly<Record<string, AgentFactory>> = Object.fromEntries(
  Object.entries(AGENTS).map(([name, agent]) => [name, agent.create]),
);
