/** One message of the conversation so far, oldest first. */
export interface ConversationMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** What a runtime knows about the turn it runs. */
export interface AgentTurn {
  sessionId: string;
  turnId: string;
  /** The session's `agent` name. */
  agent: string;
  /** Seq of the `message.user` this turn answers. */
  inputSeq: number;
  /** That message's content. */
  input: string;
  metadata: Record<string, unknown>;
  /**
   * The conversation before this turn, oldest first: every user message and every completed
   * assistant message (`message.completed`), at most `maxMessages` of the newest (default 100).
   */
  history(maxMessages?: number): Promise<ConversationMessage[]>;
}

/** Output of a runtime, in the order it happened. */
export type AgentEmission =
  | { type: 'delta'; text: string }
  | { type: 'tool.call'; callId: string; name: string; input: unknown }
  | { type: 'tool.result'; callId: string; output: unknown; isError: boolean };

/**
 * Records the runtime's output. Text deltas are coalesced before they are stored; concatenated they
 * make the turn's reply (`message.completed`). Calls after the turn was closed (interrupted,
 * lease lost) are ignored.
 */
export type AgentEmit = (emission: AgentEmission) => void;

/**
 * An agent: one instance runs one turn.
 *
 * - `run` resolves when the reply is complete (`end_turn`) and rejects on failure (the turn ends
 *   with `error`, code `agent_failed`). It must stop soon after `signal` aborts.
 * - `interrupt` is called when the user interrupts (after `signal` aborted). A runtime that throws
 *   here or ignores `signal` does not hold the turn open: the runner closes it as `interrupted`
 *   regardless and ignores anything the runtime emits afterwards.
 */
export interface AgentRuntime {
  run(turn: AgentTurn, signal: AbortSignal, emit: AgentEmit): Promise<void>;
  interrupt(): Promise<void> | void;
}

/** Creates the runtime of one turn. */
export type AgentFactory = (context: AgentContext) => AgentRuntime;

/** Settings a factory may need (from the worker's configuration). */
export interface AgentContext {
  openai: { baseUrl: string; apiKey?: string; model: string };
}
