import type { EventStore } from '@sessionwire/events';
import type { LeaseKeeper } from '../leases/lease-keeper';
import type { HeldSessions } from './held-sessions';
import type { SessionRunner } from './session-runner';

/**
 * The fallback for lost hints: one batched query over every held session notices new input for
 * idle sessions and sessions that ended or moved on, and one more finds `interrupt.requested` of
 * every running turn since the last poll (however many sessions run).
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
    const [heads] = await this.keeper.reported('poll', async () => [
      await this.store.getHeads(runners.map((r) => r.sessionId)),
    ]);
    if (!heads) return;
    const scans: { runner: SessionRunner; toSeq: number }[] = [];
    for (const runner of runners) {
      const head = heads.get(runner.sessionId);
      if (!runner.live) continue;
      if (!head || (head.state !== 'STARTING' && head.state !== 'ACTIVE')) {
        this.keeper.lose(runner, head?.state === 'ENDED' ? 'ended' : 'poll');
      } else if (runner.turnId === undefined) {
        runner.scannedSeq = Math.max(runner.scannedSeq, head.headSeq);
        if (head.activity === 'running') runner.wake();
      } else if (head.headSeq > runner.scannedSeq) {
        scans.push({ runner, toSeq: head.headSeq });
      }
    }
    if (scans.length === 0) return;
    const [interrupts] = await this.keeper.reported('poll', async () => [
      await this.store.getInterruptRequests(
        scans.map(({ runner, toSeq }) => ({
          sessionId: runner.sessionId,
          afterSeq: runner.scannedSeq,
          toSeq,
        })),
      ),
    ]);
    if (!interrupts) return;
    for (const { runner, toSeq } of scans) {
      for (const turnId of interrupts.get(runner.sessionId) ?? []) runner.interrupt(turnId);
      runner.scannedSeq = Math.max(runner.scannedSeq, toSeq);
    }
  }
}
