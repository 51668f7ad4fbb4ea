import {
  StaleLeaseError,
  type EventStore,
  type LeaseStore,
  type SessionRow,
} from '@sessionwire/events';
import type { AgentRegistry } from '@sessionwire/agents';
import type { StoredEvent } from '@sessionwire/transport/protocol';
import { DatabaseHealth } from '../health/database-health';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { SessionRunner } from './session-runner';

const SESSION = '01930000-0000-7000-8000-000000000002';

/** A store whose STARTING → ACTIVE transition the test settles, and which has no input. */
function fakeDeps() {
  const calls: string[] = [];
  let settle!: (error?: Error) => void;
  const transition = new Promise<StoredEvent>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve({ seq: 2 } as StoredEvent));
  });
  const store = {
    transition: () => {
      calls.push('transition');
      return transition;
    },
    getNextInput: async () => {
      calls.push('getNextInput');
      return undefined;
    },
  } as unknown as EventStore;
  const leases = {
    release: async () => {
      calls.push('release');
      return {};
    },
  } as unknown as LeaseStore;
  const metrics = new WorkerMetrics();
  const deps = {
    store,
    leases,
    registry: {} as AgentRegistry,
    metrics,
    health: new DatabaseHealth(metrics.databaseUp),
    deltaFlushMs: 25,
    idleReleaseMs: 0,
    leaseMs: 10_000,
  };
  const row = {
    id: SESSION,
    agent: 'demo',
    metadata: {},
    leaseEpoch: 1,
    headSeq: 1,
    processedSeq: 0,
  } as unknown as SessionRow;
  return { deps, row, calls, settle };
}

describe(SessionRunner.name, () => {
  it('reads its first input while the STARTING → ACTIVE transition commits', async () => {
    const { deps, row, calls, settle } = fakeDeps();
    const run = new SessionRunner(deps, row).run();
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['getNextInput', 'transition']);
    settle();
    // No input: idle at once (IDLE_RELEASE_MS 0), so it releases; the read is not repeated.
    expect(await run).toBe('released');
    expect(calls).toEqual(['getNextInput', 'transition', 'release']);
  });

  it('stops without running anything when the transition is refused, its early read ignored', async () => {
    const { deps, row, calls, settle } = fakeDeps();
    const run = new SessionRunner(deps, row).run();
    settle(new StaleLeaseError(SESSION, 1));
    expect(await run).toBe('dropped');
    expect(calls).toEqual(['getNextInput', 'transition']);
  });
});
