/**
 * Agent runtimes and the one list of agents: the API reads the names and descriptions, workers
 * the factories. A runtime is one file; registering it is one line in `agents.ts`.
 */
export * from './agent-runtime';
export * from './agent-registry';
export * from './agents';
export { DemoRuntime, DemoUsageError } from './demo/demo-runtime';
export {
  ChatCompletionsError,
  OpenAiRuntime,
  type OpenAiRuntimeOptions,
} from './openai/openai-runtime';
