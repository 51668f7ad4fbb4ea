import type { Lease, LeaseStore } from '@sessionwire/events';
import type { WorkerConfig } from '../config/worker-config';
import { DatabaseHealth } from '../health/database-health';
import { WorkerMetrics } from '../metrics/worker-metrics';
import type { HeldSessions } from '../sessions/held-sessions';
import { LeaseKeeper } from './lease-keeper';

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

class FakeRunner {
  live = true;
  lastRenewedAt = Date.now();
  readonly lease: Lease;
  constructor(
    readonly sessionId: string,
    public leaseDeadline: number,
  ) {
    this.lease = { sessionId, leaseEpoch: 1 };
  }
  drop(): void {
    this.live = false;
  }
}

function keeper(runners: FakeRunner[], leases: Partial<LeaseStore>) {
  const metrics = new WorkerMetrics();
  const health = new DatabaseHealth(metrics.databaseUp);
  const held = {
    runners: () => runners,
    get: (id: string) => runners.find((r) => r.sessionId === id),
    size: runners.length,
  } as unknown as HeldSessions;
  const config = { workerId: 'w', leaseMs: 1000, concurrency: 10 } as WorkerConfig;
  return { health, keeper: new LeaseKeeper(config, leases as LeaseStore, metrics, held, health) };
}

describe(LeaseKeeper.name, () => {
  it('gives up a lease that may have lapsed while Postgres is away, and never renews it again', async () => {
    const lapsed = new FakeRunner('a', Date.now() - 1);
    const holding = new FakeRunner('b', Date.now() + 60_000);
    const renewed: string[][] = [];
    let reachable = false;
    const { keeper: k, health } = keeper([lapsed, holding], {
      renew: async (_owner: string, leases: readonly Lease[]) => {
        renewed.push(leases.map((l) => l.sessionId));
        if (!reachable) throw refused();
        return new Set(leases.map((l) => l.sessionId));
      },
    });
    await k.renew();
    expect(health.state.database).toBe('down');
    expect([lapsed.live, holding.live]).toEqual([false, true]);
    reachable = true;
    await k.renew();
    expect(renewed).toEqual([['a', 'b'], ['b']]);
    expect(health.state.database).toBe('up');
  });

  it('reports a sweep that cannot reach Postgres to the health state instead of failing', async () => {
    let fails: Error = refused();
    const { keeper: k, health } = keeper([], {
      detachExpired: async () => {
        throw fails;
      },
    });
    await expect(k.sweep(() => undefined)).resolves.toBe(false);
    expect(health.state).toMatchObject({
      database: 'down',
      error: expect.stringMatching(/ECONNREFUSED/),
    });
    fails = new Error('a bug');
    await expect(k.sweep(() => undefined)).rejects.toThrow('a bug');
  });
});
