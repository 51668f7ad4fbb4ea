import { Logger } from '@nestjs/common';
import {
  subscribeWork,
  type Broker,
  type Unsubscribe,
  type WorkHint,
} from '@sessionwire/transport/server';
import type { LeaseKeeper } from '../leases/lease-keeper';
import type { HeldSessions } from '../sessions/held-sessions';

export interface WorkHintHandlers {
  /** New input for a session this worker does not hold: try to claim. */
  claim(): void;
  /** Hints may have been lost (broker reconnected): re-check everything. */
  resync(): void;
}

/** Acts on `WorkHint`s from the API: wake a session, interrupt its turn, or stop an ended one. */
export class WorkHintListener {
  private static readonly log = new Logger(WorkHintListener.name);
  private unsubscribe?: Unsubscribe;

  constructor(
    private readonly broker: Broker,
    private readonly held: HeldSessions,
    private readonly keeper: LeaseKeeper,
    private readonly handlers: WorkHintHandlers,
  ) {}

  async start(): Promise<void> {
    this.broker.onResubscribe(() => this.handlers.resync());
    this.unsubscribe = await subscribeWork(this.broker, (payload) => this.handle(payload));
  }

  async stop(): Promise<void> {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    await unsubscribe?.();
  }

  handle(payload: string): void {
    const hint = parseHint(payload);
    if (!hint) {
      WorkHintListener.log.warn(`ignored a malformed work hint: ${payload.slice(0, 200)}`);
      return;
    }
    const runner = this.held.get(hint.sessionId);
    switch (hint.kind) {
      case 'input':
        if (runner) runner.wake();
        else this.handlers.claim();
        break;
      case 'interrupt':
        runner?.interrupt(hint.turnId);
        break;
      case 'end':
        if (runner) this.keeper.lose(runner, 'ended');
        break;
    }
  }
}

function parseHint(payload: string): WorkHint | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const hint = value as Record<string, unknown>;
  if (typeof hint.sessionId !== 'string') return undefined;
  if (hint.kind === 'input' || hint.kind === 'end') return hint as WorkHint;
  if (hint.kind === 'interrupt' && (typeof hint.turnId === 'string' || hint.turnId === undefined)) {
    return hint as WorkHint;
  }
  return undefined;
}
