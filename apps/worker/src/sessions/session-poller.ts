import type { EventStore } from '@sessionwire/events';
import type { LeaseKeeper } from '../leases/lease-keeper';
import type { HeldSessions } from './held-sessions';
import type { SessionRunner } from './session-runner';

const SCAN_PAGE = 500;

/**
 * The fallback for lost hints: one batched query over every held session notices new input for
 * idle sessions, `interrupt.requested` for running turns, and sessions that ended or moved on.
 */
export class SessionPoller {
  constructor(
    private readonly store: EventStore,
    private readonly held: HeldSessions,
    private readonly keeper: LeaseKeeper,
  ) {}

  async poll(): Promise<void> {
    const runners = this.held.runners().filter((r) => r.live);
    if (runners.length === 0) return;
    const heads = await this.store.getHeads(runners.map((r) => r.sessionId));
    await Promise.all(
      runners.map(async (runner) => {
        const head = heads.get(runner.sessionId);
        if (!runner.live) return;
        if (!head || (head.state !== 'STARTING' && head.state !== 'ACTIVE')) {
          this.keeper.lose(runner, head?.state === 'ENDED' ? 'ended' : 'poll');
        } else if (runner.turnId === undefined) {
          runner.scannedSeq = Math.max(runner.scannedSeq, head.headSeq);
          if (head.activity === 'running') runner.wake();
        } else if (head.headSeq > runner.scannedSeq) {
          await this.scanForInterrupt(runner, head.headSeq);
        }
      }),
    );
  }

  private async scanForInterrupt(runner: SessionRunner, headSeq: number): Promise<void> {
    while (runner.scannedSeq < headSeq) {
      const events = await this.store.getEventsAfter(
        runner.sessionId,
        runner.scannedSeq,
        SCAN_PAGE,
      );
      if (events.length === 0) return;
      for (const event of events) {
        if (event.type === 'interrupt.requested' && event.data.turnId !== null) {
          runner.interrupt(event.data.turnId);
        }
      }
      runner.scannedSeq = events[events.length - 1].seq;
    }
  }
}
