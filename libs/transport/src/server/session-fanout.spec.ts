import type { SessionHead } from './history';
import { MemoryBroker } from './memory-broker';
import { SessionFanout, type FanoutMember } from './session-fanout';
import { FakeHistory } from './testing/fake-history';
import { RecordingMetrics } from './testing/recording-metrics';

/** A member that only records the heartbeats it is given. */
function member(name: string, seen: string[]): FanoutMember {
  return {
    offer: () => undefined,
    takeShared: () => undefined,
    catchUpFrom: () => undefined,
    isBehind: () => false,
    settle: () => undefined,
    heartbeat: (head: SessionHead) => seen.push(`${name}@${head.headSeq}`),
  };
}

describe(SessionFanout.name, () => {
  const broker = new MemoryBroker();
  const fanout = () =>
    new SessionFanout(
      's',
      { headSeq: 3, state: 'ACTIVE', activity: 'idle' },
      {
        broker,
        history: new FakeHistory(),
        metrics: new RecordingMetrics(),
        log: { warn: () => undefined, error: () => undefined },
        pageSize: 10,
        tailCacheBytes: 1024,
      },
    );
  afterAll(() => broker.close());

  it('keeps its members, one or many, and says when the last one left', () => {
    const f = fanout();
    const seen: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => member(name, seen));
    f.add(a);
    f.add(a);
    expect(f.size).toBe(1);
    f.add(b);
    f.add(c);
    expect(f.size).toBe(3);
    expect(f.remove(b)).toBe(false);
    expect(f.remove(b)).toBe(false);
    f.heartbeat();
    expect(seen.splice(0)).toEqual(['a@3', 'c@3']);
    expect(f.remove(a)).toBe(false);
    expect(f.size).toBe(1);
    f.heartbeat();
    expect(seen.splice(0)).toEqual(['c@3']);
    f.add(b);
    expect(f.remove(c)).toBe(false);
    expect(f.remove(b)).toBe(true);
    expect(f.size).toBe(0);
    f.heartbeat();
    expect(seen).toEqual([]);
  });
});
