import { ChannelListeners } from './channel-listeners';

describe(ChannelListeners.name, () => {
  it('delivers to one listener or many, and says when a channel is new and when it is empty', () => {
    const channels = new ChannelListeners();
    const got: string[] = [];
    const a = (p: string) => got.push(`a ${p}`);
    const b = (p: string) => got.push(`b ${p}`);
    expect(channels.add('c', a)).toBe(true);
    channels.deliver('c', '1');
    expect(channels.add('c', b)).toBe(false);
    expect(channels.add('c', a)).toBe(false);
    channels.deliver('c', '2');
    expect(got).toEqual(['a 1', 'a 2', 'b 2', 'a 2']);
    expect(channels.remove('c', a)).toBe(false);
    expect(channels.remove('c', a)).toBe(false);
    expect(channels.remove('c', a)).toBe(false); // no third registration
    got.length = 0;
    channels.deliver('c', '3');
    expect(got).toEqual(['b 3']);
    expect(channels.remove('c', b)).toBe(true);
    expect(channels.has('c')).toBe(false);
    expect(channels.size).toBe(0);
  });

  it('delivers a payload to the listeners present when it arrived, even if one leaves meanwhile', () => {
    const channels = new ChannelListeners();
    const got: string[] = [];
    const b = (p: string) => got.push(`b ${p}`);
    const a = (p: string) => {
      got.push(`a ${p}`);
      channels.remove('c', b);
    };
    channels.add('c', a);
    channels.add('c', b);
    channels.deliver('c', 'x');
    channels.deliver('c', 'y');
    expect(got).toEqual(['a x', 'b x', 'a y']);
  });

  it('calls an object listener through onMessage, and knows it by its identity', () => {
    const channels = new ChannelListeners();
    const got: string[] = [];
    const fanout = { onMessage: (p: string) => got.push(`object ${p}`) };
    const twin = { onMessage: fanout.onMessage };
    const fn = (p: string) => got.push(`function ${p}`);
    expect(channels.add('c', fanout)).toBe(true);
    channels.deliver('c', '1');
    channels.add('c', fn);
    channels.deliver('c', '2');
    expect(got).toEqual(['object 1', 'object 2', 'function 2']);
    expect(channels.remove('c', twin)).toBe(false); // same method, another listener
    expect(channels.remove('c', fn)).toBe(false);
    got.length = 0;
    channels.deliver('c', '3');
    expect(got).toEqual(['object 3']);
    expect(channels.remove('c', fanout)).toBe(true);
    expect(channels.size).toBe(0);
  });
});
