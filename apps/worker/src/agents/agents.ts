import type { AgentFactory } from './agent-runtime';
import { DemoRuntime } from './demo/demo-runtime';
import { OpenAiRuntime } from './openai/openai-runtime';

/** The runtimes a worker ships with, by the session's `agent` name. Add yours here. */
export const BUILT_IN_AGENTS: Readonly<Record<string, AgentFactory>> = {
  demo: () => new DemoRuntime(),
  openai: (context) => new OpenAiRuntime(context.openai),
};
