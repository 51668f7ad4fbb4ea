import { Logger } from '@nestjs/common';
import { InputAlreadyProcessedError, type EventStore } from '@sessionwire/events';
import type { NewEvent, StopReason } from '@sessionwire/transport/protocol';
import { v7 as uuidv7 } from 'uuid';
import { UnknownAgentError, type AgentRegistry } from '@sessionwire/agents';
import type { AgentEmission, AgentRuntime, AgentTurn } from '@sessionwire/agents';
import type { WorkerMetrics } from '../metrics/worker-metrics';
import type { SessionAppender } from './session-appender';
import { readConversation } from './turn-history';
import { TurnOutput } from './turn-output';

/** How long an interrupted turn waits for the runtime's `interrupt()` before closing anyway. */
export const INTERRUPT_GRACE_MS = 200;
const MAX_ERROR_MESSAGE = 1000;

export interface TurnDeps {
  store: EventStore;
  registry: AgentRegistry;
  metrics: WorkerMetrics;
  deltaFlushMs: number;
}

export interface TurnSession {
  sessionId: string;
  agent: string;
  metadata: Record<string, unknown>;
}

export interface TurnInput {
  seq: number;
  content: string;
}

/**
 * How a turn ended: a stop reason it wrote, `dropped` (the lease is gone; nothing written), or
 * `skipped` (its input's turn had been closed by someone else, a stop: nothing written).
 */
export type TurnEnd = Exclude<StopReason, 'worker_lost'> | 'dropped' | 'skipped';

type Outcome = { kind: 'done' } | { kind: 'failed'; error: unknown } | { kind: 'stopped' };

/**
 * Runs one turn: `turn.started`, the agent's output, then `message.completed` (end_turn only) and
 * `turn.completed` in one append, so the processed cursor moves with the turn's last event.
 * An interrupt closes the turn as `interrupted` without waiting for the runtime; a drop (lease lost,
 * session ended) stops it writing anything at once.
 */
export class TurnRunner {
  private static readonly log = new Logger(TurnRunner.name);
  readonly turnId = uuidv7();
  private readonly controller = new AbortController();
  private stopCause?: 'interrupt' | 'drop';
  private interruptedAt?: number;
  private interruptOutcome?: Promise<Error | undefined>;
  private runtime?: AgentRuntime;
  private output?: TurnOutput;
  private outputFailure?: { error: unknown };
  private wakeStopped!: () => void;
  private readonly stopped = new Promise<Outcome>((resolve) => {
    this.wakeStopped = () => resolve({ kind: 'stopped' });
  });

  constructor(
    private readonly deps: TurnDeps,
    private readonly appender: SessionAppender,
    private readonly session: TurnSession,
    private readonly input: TurnInput,
  ) {}

  /** Interrupts the turn (it closes as `interrupted`); false if it was already stopping. */
  interrupt(): boolean {
    if (this.stopCause) return false;
    this.stopCause = 'interrupt';
    this.interruptedAt = performance.now();
    this.controller.abort(new Error('turn interrupted'));
    this.interruptOutcome = this.callRuntimeInterrupt();
    this.wakeStopped();
    return true;
  }

  /** Stops the turn at once; nothing more is written. */
  drop(): void {
    if (this.stopCause === 'drop') return;
    const wasInterrupted = this.stopCause === 'interrupt';
    this.stopCause = 'drop';
    this.output?.abandon();
    if (!wasInterrupted) {
      this.controller.abort(new Error('turn dropped'));
      void this.callRuntimeInterrupt();
    }
    this.wakeStopped();
  }

  async run(): Promise<TurnEnd> {
    const startedAt = performance.now();
    const { sessionId } = this.session;
    try {
      await this.appender.append([
        { type: 'turn.started', data: { turnId: this.turnId, inputSeq: this.input.seq } },
      ]);
    } catch (error) {
      // Closed between our read of the input and now (a stop of a waiting message): processed.
      if (error instanceof InputAlreadyProcessedError) return 'skipped';
      throw error;
    }
    this.deps.metrics.turnsRunning.inc();
    try {
      const end = await this.execute();
      if (end !== 'dropped') {
        this.deps.metrics.turnDuration.observe(
          { stop_reason: end },
          (performance.now() - startedAt) / 1000,
        );
      }
      if (end === 'interrupted' && this.interruptedAt !== undefined) {
        this.deps.metrics.interruptLatency.observe((performance.now() - this.interruptedAt) / 1000);
      }
      const firstTextAt = this.output?.firstTextAt;
      if (firstTextAt !== undefined) {
        this.deps.metrics.firstDelta.observe((firstTextAt - startedAt) / 1000);
      }
      return end;
    } catch (error) {
      this.drop();
      throw error;
    } finally {
      this.deps.metrics.turnsRunning.dec();
      TurnRunner.log.debug(`turn ${this.turnId} of session ${sessionId} finished`);
    }
  }

  private async execute(): Promise<TurnEnd> {
    const output = new TurnOutput(
      this.turnId,
      (events) => this.appender.append(events),
      this.deps.deltaFlushMs,
      (error) => {
        this.outputFailure = { error };
        this.drop();
      },
    );
    this.output = output;
    if (this.stopCause === 'drop') output.abandon();
    let outcome: Outcome;
    if (this.stopCause) {
      outcome = { kind: 'stopped' };
    } else {
      try {
        this.runtime = this.deps.registry.create(this.session.agent);
      } catch (error) {
        const code = error instanceof UnknownAgentError ? 'unknown_agent' : 'agent_failed';
        return this.fail(output, code, error);
      }
      outcome = await Promise.race([this.start(this.runtime, output), this.stopped]);
    }
    if (this.outputFailure) throw this.outputFailure.error;
    if (this.stopCause === 'drop') return 'dropped';
    if (this.stopCause === 'interrupt') return this.closeInterrupted(output);
    if (outcome.kind === 'failed') return this.fail(output, 'agent_failed', outcome.error);
    await this.close(output, [
      { type: 'message.completed', data: { turnId: this.turnId, text: output.text } },
      this.completed('end_turn'),
    ]);
    return 'end_turn';
  }

  /** Runs the runtime; settles with its outcome, never rejects (a synchronous throw included). */
  private async start(runtime: AgentRuntime, output: TurnOutput): Promise<Outcome> {
    const emit = (emission: AgentEmission) => this.emit(output, emission);
    try {
      await runtime.run(this.agentTurn(), this.controller.signal, emit);
      return { kind: 'done' };
    } catch (error) {
      return { kind: 'failed', error };
    }
  }

  private emit(output: TurnOutput, emission: AgentEmission): void {
    if (this.stopCause) return;
    const turnId = this.turnId;
    switch (emission.type) {
      case 'delta':
        output.delta(emission.text);
        break;
      case 'tool.call':
        output.event({
          type: 'tool.call',
          data: { turnId, callId: emission.callId, name: emission.name, input: emission.input },
        });
        break;
      case 'tool.result':
        output.event({
          type: 'tool.result',
          data: {
            turnId,
            callId: emission.callId,
            output: emission.output,
            isError: emission.isError,
          },
        });
        break;
    }
  }

  private async closeInterrupted(output: TurnOutput): Promise<TurnEnd> {
    const failure = await Promise.race([
      this.interruptOutcome ?? Promise.resolve(undefined),
      new Promise<undefined>((r) => setTimeout(r, INTERRUPT_GRACE_MS)),
    ]);
    const events: NewEvent[] = [];
    if (failure) {
      TurnRunner.log.warn(`agent interrupt() failed in turn ${this.turnId}: ${failure.message}`);
      events.push(this.errorEvent('interrupt_failed', failure));
    }
    events.push(this.completed('interrupted'));
    await this.close(output, events);
    return 'interrupted';
  }

  private async fail(output: TurnOutput, code: string, error: unknown): Promise<TurnEnd> {
    const message = errorMessage(error);
    TurnRunner.log.warn(
      `turn ${this.turnId} of session ${this.session.sessionId} failed: ${message}`,
    );
    await this.close(output, [
      this.errorEvent(code, error),
      this.completed('error', { code, message }),
    ]);
    return 'error';
  }

  private async close(output: TurnOutput, final: NewEvent[]): Promise<void> {
    try {
      await output.close(final);
    } catch (error) {
      throw this.outputFailure?.error ?? error;
    }
  }

  private completed(
    stopReason: Exclude<StopReason, 'worker_lost'>,
    error?: { code: string; message: string },
  ): NewEvent {
    return {
      type: 'turn.completed',
      data: { turnId: this.turnId, stopReason, ...(error ? { error } : {}) },
    };
  }

  private errorEvent(code: string, error: unknown): NewEvent {
    return {
      type: 'agent.error',
      data: { code, message: errorMessage(error), turnId: this.turnId },
    };
  }

  private agentTurn(): AgentTurn {
    const { store } = this.deps;
    const { sessionId, agent, metadata } = this.session;
    const inputSeq = this.input.seq;
    return {
      sessionId,
      turnId: this.turnId,
      agent,
      inputSeq,
      input: this.input.content,
      metadata,
      history: (maxMessages = 100) => readConversation(store, sessionId, inputSeq, maxMessages),
    };
  }

  private callRuntimeInterrupt(): Promise<Error | undefined> {
    const runtime = this.runtime;
    if (!runtime) return Promise.resolve(undefined);
    try {
      return Promise.resolve(runtime.interrupt()).then(
        () => undefined,
        (error: unknown) => toError(error),
      );
    } catch (error) {
      return Promise.resolve(toError(error));
    }
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function errorMessage(error: unknown): string {
  const message = toError(error).message || 'unknown error';
  return message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}…` : message;
}
