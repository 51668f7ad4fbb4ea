import calculateSlot from 'cluster-key-slot';
import { randomUUID } from 'node:crypto';
import { sessionChannel, WORK_CHANNEL_COUNT, WORK_CHANNELS, workChannel } from './broker';
import { hashTag } from './redis-cluster-broker';

describe('broker channels', () => {
  it('puts a session id in a hash tag, so its channels share one slot whatever the prefix', () => {
    const id = randomUUID();
    expect(sessionChannel(id)).toBe(`session:{${id}}`);
    expect(hashTag(`stage:${sessionChannel(id)}`)).toBe(id);
    expect(calculateSlot(`a:${sessionChannel(id)}`)).toBe(calculateSlot(`b:${sessionChannel(id)}`));
  });

  it('spreads the work channels one per equal range of hash slots', () => {
    expect(new Set(WORK_CHANNELS).size).toBe(WORK_CHANNEL_COUNT);
    const ranges = WORK_CHANNELS.map((c) =>
      Math.floor((calculateSlot(c) * WORK_CHANNEL_COUNT) / 16384),
    );
    expect(ranges).toEqual(Array.from({ length: WORK_CHANNEL_COUNT }, (_, i) => i));
  });

  it('gives each session one work channel, and spreads sessions over all of them', () => {
    const ids = Array.from({ length: 2000 }, () => randomUUID());
    for (const id of ids.slice(0, 10)) expect(workChannel(id)).toBe(workChannel(id));
    const used = new Map<string, number>();
    for (const id of ids) used.set(workChannel(id), (used.get(workChannel(id)) ?? 0) + 1);
    expect(used.size).toBe(WORK_CHANNEL_COUNT);
    // 2000 sessions over 32 channels: none carries more than twice its share
    expect(Math.max(...used.values())).toBeLessThan((2 * ids.length) / WORK_CHANNEL_COUNT);
  });

  it('finds hash tags as Redis does', () => {
    expect(hashTag('plain')).toBe('plain');
    expect(hashTag('a{b}c{d}')).toBe('b');
    expect(hashTag('a{}b{c}')).toBe('a{}b{c}');
    expect(hashTag('a{b')).toBe('a{b');
  });
});
