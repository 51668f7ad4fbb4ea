import {
  CommitFailedError,
  StaleLeaseError,
  type EventStore,
  type LeaseStore,
} from '@sessionwire/events';
import type { NewEvent, StoredEvent } from '@sessionwire/transport/protocol';
import { DatabaseHealth } from '../health/database-health';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { LeaseLapsedError, LeaseLostError, SessionAppender } from './session-appender';

const SESSION = '01930000-0000-7000-8000-000000000001';
const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const cut = () => new Error('Connection terminated unexpectedly');

/** A log in memory whose next appends fail as scripted: before storing, or after storing. */
class FlakyLog {
  readonly log: StoredEvent[] = [];
  script: ('refused' | 'stored_then_cut' | 'ok')[] = [];
  reads = 0;

  store(): EventStore {
    return {
      append: async (sessionId: string, events: NewEvent[]) => {
        const step = this.script.shift() ?? 'ok';
        if (step === 'refused') throw new CommitFailedError('rolled_back', refused());
        const stored = events.map((e, i) => ({
          sessionId,
          seq: this.log.length + i + 1,
          type: e.type,
          data: JSON.parse(JSON.stringify(e.data)),
          createdAt: new Date().toISOString(),
        })) as StoredEvent[];
        this.log.push(...stored);
        if (step === 'stored_then_cut') throw new CommitFailedError('unknown', cut());
        return stored;
      },
      getEventsAfter: async (_id: string, after: number) => {
        this.reads++;
        return this.log.filter((e) => e.seq > after);
      },
    } as unknown as EventStore;
  }
}

function appender(flaky: FlakyLog, deadline = () => Date.now() + 60_000) {
  const metrics = new WorkerMetrics();
  const health = new DatabaseHealth(metrics.databaseUp);
  const deps = { store: flaky.store(), leases: {} as LeaseStore, metrics, health };
  return {
    health,
    a: new SessionAppender(deps, { sessionId: SESSION, leaseEpoch: 3 }, 0, deadline),
  };
}

const delta = (text: string): NewEvent => ({ type: 'message.delta', data: { turnId: 't', text } });

describe(SessionAppender.name, () => {
  it('stores a write once when its failed commit had landed (outcome unknown)', async () => {
    const flaky = new FlakyLog();
    const { a } = appender(flaky);
    await a.append([delta('a')]);
    flaky.script = ['stored_then_cut'];
    const stored = await a.append([delta('b'), delta('c')]);
    expect(flaky.log.map((e) => (e.data as { text: string }).text)).toEqual(['a', 'b', 'c']);
    expect(stored.map((e) => e.seq)).toEqual([2, 3]);
    expect(flaky.reads).toBe(1);
  });

  it('writes again, in order, after a commit that was rolled back', async () => {
    const flaky = new FlakyLog();
    const { a, health } = appender(flaky);
    flaky.script = ['refused', 'refused'];
    const writing = a.append([delta('x')]);
    await new Promise((r) => setTimeout(r, 20));
    expect(health.state.database).toBe('down');
    await writing;
    expect(flaky.log.map((e) => e.seq)).toEqual([1]);
    expect(health.state.database).toBe('up');
    expect(flaky.reads).toBe(0); // nothing can have landed: no need to look
  });

  it('gives up with LeaseLapsedError once the lease may have expired, writing nothing', async () => {
    const flaky = new FlakyLog();
    const { a } = appender(flaky, () => Date.now() + 250);
    flaky.script = Array(20).fill('refused');
    await expect(a.append([delta('late')])).rejects.toBeInstanceOf(LeaseLapsedError);
    expect(flaky.log).toEqual([]);
  });

  it('takes a release that landed before its connection broke as the lease being gone', async () => {
    const flaky = new FlakyLog();
    const metrics = new WorkerMetrics();
    const calls: string[] = [];
    const leases = {
      release: async () => {
        calls.push('release');
        if (calls.length === 1) throw new CommitFailedError('unknown', cut());
        throw new StaleLeaseError(SESSION, 3); // the first one bumped the epoch
      },
    } as unknown as LeaseStore;
    const health = new DatabaseHealth(metrics.databaseUp);
    const a = new SessionAppender(
      { store: flaky.store(), leases, metrics, health },
      { sessionId: SESSION, leaseEpoch: 3 },
      0,
      () => Date.now() + 60_000,
    );
    await expect(a.release('idle')).rejects.toBeInstanceOf(LeaseLostError);
    expect(calls).toEqual(['release', 'release']);
  });

  it('stops retrying at once when the session is dropped', async () => {
    const flaky = new FlakyLog();
    const { a } = appender(flaky);
    flaky.script = Array(20).fill('refused');
    const writing = a.append([delta('late')]);
    await new Promise((r) => setTimeout(r, 50));
    a.cancel();
    await expect(writing).rejects.toBeInstanceOf(LeaseLostError);
    expect(flaky.log).toEqual([]);
  });
});
