import { AgentRegistry, UnknownAgentError } from './agent-registry';
import type { AgentRuntime } from './agent-runtime';
import { BUILT_IN_AGENTS } from './agents';
import { DemoRuntime } from './demo/demo-runtime';
import { OpenAiRuntime } from './openai/openai-runtime';

const context = { openai: { baseUrl: 'http://127.0.0.1:1/v1', model: 'm' } };

describe(AgentRegistry.name, () => {
  it('ships demo and openai', () => {
    const registry = new AgentRegistry(context, BUILT_IN_AGENTS);
    expect(registry.names()).toEqual(['demo', 'openai']);
    expect(registry.create('demo')).toBeInstanceOf(DemoRuntime);
    expect(registry.create('openai')).toBeInstanceOf(OpenAiRuntime);
  });

  it('creates a fresh runtime per turn from a registered factory, with the context', () => {
    const seen: unknown[] = [];
    const registry = new AgentRegistry(context).register('echo', (ctx) => {
      seen.push(ctx);
      return { run: async () => undefined, interrupt: () => undefined } satisfies AgentRuntime;
    });
    expect(registry.has('echo')).toBe(true);
    expect(registry.create('echo')).not.toBe(registry.create('echo'));
    expect(seen).toEqual([context, context]);
  });

  it('refuses an unknown agent, a duplicate name and a bad name', () => {
    const registry = new AgentRegistry(context, BUILT_IN_AGENTS);
    expect(() => registry.create('nope')).toThrow(UnknownAgentError);
    expect(() => registry.register('demo', () => new DemoRuntime())).toThrow(/already registered/);
    expect(() => registry.register('Bad Name', () => new DemoRuntime())).toThrow(
      /invalid agent name/,
    );
  });
});
