import type { ControlFrame, StoredEvent } from '../protocol';
import { encodeEvent, type EncodedEvent } from './encoded-event';
import type { SessionHead } from './history';
import { ResumeHandoff } from './resume-handoff';

const SESSION = '0190b1a0-0000-7000-8000-000000000001';

function stored(seq: number): StoredEvent {
  return {
    sessionId: SESSION,
    seq,
    type: 'message.delta',
    data: { turnId: 't', text: `e${seq}` },
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

/** A log of `head` events, a handoff over it, and everything the handoff emitted. */
function setup(options: { cursor: number; head: number; gap?: number; page?: number }) {
  const log: EncodedEvent[] = [];
  const append = (count: number) => {
    for (let i = 0; i < count; i++) log.push(encodeEvent(stored(log.length + 1)));
    return log.slice(-count);
  };
  append(options.head);
  const head: SessionHead = { headSeq: options.head, state: 'ACTIVE', activity: 'running' };
  const out: (number | ControlFrame)[] = [];
  let expiredThrough = 0; // retention removed the seqs up to this one
  const reads: [number, number][] = [];
  let hold: Promise<void> | undefined;
  let onRead: (() => void) | undefined;
  const pageSize = options.page ?? 500;
  const source = {
    sessionId: SESSION,
    head,
    pageSize,
    read: async (after: number) => {
      reads.push([after, pageSize]);
      const headSeq = head.headSeq;
      const visible = log.slice(0, log.length); // the read's snapshot: commits after it are unseen
      onRead?.();
      await hold;
      const from = Math.max(after, expiredThrough);
      return { afterSeq: after, headSeq, events: visible.slice(from, from + pageSize) };
    },
  };
  const sink = {
    event: (event: EncodedEvent) => out.push(event.seq),
    control: (frame: ControlFrame) => out.push(frame),
  };
  const handoff = new ResumeHandoff(source, sink, options.cursor, options.gap ?? 200);
  const holdReads = () => {
    let release!: () => void;
    hold = new Promise((resolve) => (release = resolve));
    const started = new Promise<void>((resolve) => (onRead = resolve));
    return { started, release: () => ((hold = undefined), release()) };
  };
  const seqs = () => out.filter((item): item is number => typeof item === 'number');
  const controls = () => out.filter((item): item is ControlFrame => typeof item !== 'number');
  const expire = (throughSeq: number) => (expiredThrough = throughSeq);
  return { handoff, log, append, head, out, reads, holdReads, seqs, controls, expire };
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe(ResumeHandoff.name, () => {
  it('replays the backlog after the cursor, then sends live once', async () => {
    const t = setup({ cursor: 3, head: 10 });
    const result = await t.handoff.run();
    expect(t.seqs()).toEqual(range(4, 10));
    expect(t.out.at(-1)).toEqual({ event: 'live', data: { sessionId: SESSION, headSeq: 10 } });
    expect(t.controls()).toHaveLength(1);
    expect(result).toEqual({ outcome: 'replayed', replayed: 7 });
    expect(t.handoff.isLive).toBe(true);
  });

  it('merges live events buffered during the backlog read: each once, in order', async () => {
    const t = setup({ cursor: 3, head: 8 });
    const gate = t.holdReads();
    const running = t.handoff.run();
    await gate.started;
    // While the backlog read is in flight: events 9–11 are committed and their hints arrive,
    // one overlapping the backlog, one twice, one out of order.
    const fresh = t.append(3);
    t.handoff.offer([t.log[7], fresh[0]]);
    t.handoff.offer([fresh[2]]);
    t.handoff.offer([fresh[1], fresh[1]]);
    expect(t.out).toEqual([]);
    gate.release();
    await running;
    expect(t.seqs()).toEqual(range(4, 11));
    expect(t.controls()).toEqual([{ event: 'live', data: { sessionId: SESSION, headSeq: 11 } }]);
  });

  it('delivers once an event published between subscribe and the backlog read', async () => {
    const t = setup({ cursor: 5, head: 5 });
    const [published] = t.append(1);
    t.handoff.offer([published]);
    await t.handoff.run();
    expect(t.seqs()).toEqual([6]);
  });

  it('drops offered events at or below the cursor', async () => {
    const t = setup({ cursor: 6, head: 6 });
    t.handoff.offer(t.log.slice(0, 6));
    await t.handoff.run();
    t.handoff.offer(t.log.slice(2, 6));
    expect(t.seqs()).toEqual([]);
  });

  it('reads the hole between the backlog and buffered live events', async () => {
    const t = setup({ cursor: 2, head: 4, page: 2 });
    const gate = t.holdReads();
    const running = t.handoff.run();
    await gate.started;
    const fresh = t.append(4); // 5..8; only the hint of 8 arrives
    t.handoff.offer([fresh[3]]);
    gate.release();
    await running;
    expect(t.seqs()).toEqual(range(3, 8));
    expect(t.reads.map(([after]) => after)).toEqual([2, 4, 6]);
  });

  it('once live, delivers the next seq at once, drops a duplicate and waits on a hole', async () => {
    const t = setup({ cursor: 0, head: 2 });
    await t.handoff.run();
    const fresh = t.append(3); // 3, 4, 5
    t.handoff.offer([fresh[0]]);
    t.handoff.offer([fresh[0]]);
    t.handoff.offer([fresh[2]]);
    expect(t.seqs()).toEqual([1, 2, 3]);
    expect(t.handoff.isBehind(5)).toBe(true);
    t.handoff.offer(fresh);
    expect(t.seqs()).toEqual(range(1, 5));
    expect(t.handoff.isBehind(5)).toBe(false);
  });

  it('replays 150 events behind in full', async () => {
    const t = setup({ cursor: 50, head: 200 });
    const result = await t.handoff.run();
    expect(t.seqs()).toEqual(range(51, 200));
    expect(result.replayed).toBe(150);
  });

  it('sends one gap frame and no replay past the cap, then goes on after toSeq', async () => {
    const t = setup({ cursor: 10, head: 5010 });
    const result = await t.handoff.run();
    expect(result).toEqual({ outcome: 'gap', replayed: 0 });
    expect(t.reads).toEqual([[5010, 500]]);
    expect(t.out[0]).toEqual({
      event: 'gap',
      data: {
        sessionId: SESSION,
        reason: 'replay_gap_exceeded',
        fromSeq: 11,
        toSeq: 5010,
        headSeq: 5010,
        state: 'ACTIVE',
        activity: 'running',
        historyUrl: `/v1/sessions/${SESSION}/events?after=10&limit=1000`,
      },
    });
    const fresh = t.append(1);
    t.handoff.offer(fresh);
    expect(t.seqs()).toEqual([5011]);
  });

  it('answers a cursor past head with cursor_ahead from seq 1', async () => {
    const t = setup({ cursor: 99, head: 7 });
    const result = await t.handoff.run();
    expect(result.outcome).toBe('cursor_ahead');
    expect(t.out[0]).toMatchObject({
      event: 'gap',
      data: { reason: 'cursor_ahead', fromSeq: 1, toSeq: 7, headSeq: 7 },
    });
    expect((t.out[0] as { data: { historyUrl: string } }).data.historyUrl).toContain('after=0&');
    expect(t.out[1]).toEqual({ event: 'live', data: { sessionId: SESSION, headSeq: 7 } });
  });

  it('sends no live frame when the session is ENDED at head', async () => {
    const t = setup({ cursor: 1, head: 3 });
    t.head.state = 'ENDED';
    await t.handoff.run();
    expect(t.seqs()).toEqual([2, 3]);
    expect(t.controls()).toEqual([]);
  });

  it('stops delivering once aborted', async () => {
    const t = setup({ cursor: 0, head: 3 });
    const gate = t.holdReads();
    const running = t.handoff.run();
    await gate.started;
    t.handoff.abort();
    gate.release();
    await running;
    expect(t.out).toEqual([]);
  });

  it('announces history removed by retention with one history_expired gap, then replays the rest', async () => {
    const t = setup({ cursor: 3, head: 10 });
    t.expire(6);
    const result = await t.handoff.run();
    expect(t.out[0]).toMatchObject({
      event: 'gap',
      data: { reason: 'history_expired', fromSeq: 4, toSeq: 6, headSeq: 10 },
    });
    expect((t.out[0] as { data: { historyUrl: string } }).data.historyUrl).toContain('after=3&');
    expect(t.seqs()).toEqual(range(7, 10));
    expect(t.out.at(-1)).toEqual({ event: 'live', data: { sessionId: SESSION, headSeq: 10 } });
    expect(result).toEqual({ outcome: 'history_expired', replayed: 4 });
  });

  it('announces a wholly removed backlog up to the head it read against', async () => {
    const t = setup({ cursor: 3, head: 10 });
    t.expire(10);
    await t.handoff.run();
    expect(t.controls().map((frame) => [frame.event, frame.data])).toEqual([
      ['gap', expect.objectContaining({ reason: 'history_expired', fromSeq: 4, toSeq: 10 })],
      ['live', { sessionId: SESSION, headSeq: 10 }],
    ]);
    expect(t.seqs()).toEqual([]);
  });

  it('applies the cap before reading: past it, nothing is read and no expiry is seen', async () => {
    const t = setup({ cursor: 3, head: 10, gap: 5 });
    t.expire(6);
    const result = await t.handoff.run();
    expect(t.controls()[0]).toMatchObject({
      data: { reason: 'replay_gap_exceeded', fromSeq: 4, toSeq: 10 },
    });
    expect(t.reads).toEqual([[10, 500]]);
    expect(result.outcome).toBe('gap');
  });

  it('goes on after an expired range with the cap applying from there', async () => {
    const t = setup({ cursor: 3, head: 10 });
    t.expire(6);
    const gate = t.holdReads();
    const running = t.handoff.run();
    await gate.started;
    const fresh = t.append(290); // 11..300; only the hint of 300 arrives
    t.handoff.offer([fresh[289]]);
    gate.release();
    await running;
    const gaps = t.controls().filter((frame) => frame.event === 'gap');
    expect(gaps.map((gap) => [gap.data.reason, gap.data.fromSeq, gap.data.toSeq])).toEqual([
      ['history_expired', 4, 6],
      ['replay_gap_exceeded', 11, 299],
    ]);
    expect(t.seqs()).toEqual([...range(7, 10), 300]);
  });
});
