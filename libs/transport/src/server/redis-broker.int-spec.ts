import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { testRedisPrefix, testRedisUrl } from '../../../../test/database';
import { waitFor } from '../../../../test/process';
import { publishEvents, sessionChannel, type SessionHint } from './broker';
import { RedisBroker } from './redis-broker';
import { HubFixture, sessionIds } from './testing/hub-fixture';

describe(RedisBroker.name, () => {
  let admin: Redis;
  let prefix: string;
  const brokers: RedisBroker[] = [];
  const errors: string[] = [];

  const broker = (name = `swtest-${randomBytes(4).toString('hex')}`) => {
    const created = new RedisBroker({
      url: testRedisUrl(),
      prefix,
      connectionName: name,
      onError: (error, context) => errors.push(`${context}: ${error.message}`),
    });
    brokers.push(created);
    return created;
  };

  /** The broker's subscriber connection as Redis sees it (`CLIENT LIST`, by its name). */
  const subscriberInfo = async (name: string): Promise<Record<string, string> | undefined> => {
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    for (const line of list.split('\n')) {
      const fields = Object.fromEntries(line.split(' ').map((pair) => pair.split('=', 2)));
      if (fields.name === `${name}-sub`) return fields;
    }
    return undefined;
  };
  const numsub = async (channel: string): Promise<number> => {
    const reply = (await admin.call('PUBSUB', 'NUMSUB', prefix + channel)) as [string, number];
    return Number(reply[1]);
  };

  beforeAll(() => {
    admin = new Redis(testRedisUrl());
  });
  beforeEach(() => {
    prefix = testRedisPrefix();
    errors.length = 0;
  });
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('subscribes upstream once per channel however many listeners, and unsubscribes after the last', async () => {
    const name = `swtest-${randomBytes(4).toString('hex')}`;
    const b = broker(name);
    const sub = (b as unknown as { sub: Redis }).sub;
    const subscribe = jest.spyOn(sub, 'subscribe');
    const unsubscribe = jest.spyOn(sub, 'unsubscribe');
    const received: string[][] = Array.from({ length: 5 }, () => []);
    const onA = await Promise.all(
      received.map((inbox) => b.subscribe('a', (payload) => inbox.push(payload))),
    );
    const onB = await Promise.all([
      b.subscribe('b', () => undefined),
      b.subscribe('b', () => undefined),
    ]);
    expect(subscribe).toHaveBeenCalledTimes(2);
    expect(await numsub('a')).toBe(1);
    expect((await subscriberInfo(name))?.sub).toBe('2');

    const publisher = broker();
    await publisher.ping(); // a publish before the connection is up is dropped, by design
    await publisher.publish('a', 'hello');
    await waitFor(
      'every subscriber to get the message',
      () => received.every((inbox) => inbox.length === 1),
      15_000,
      20,
    );
    expect(received).toEqual(Array.from({ length: 5 }, () => ['hello']));

    await Promise.all(onA.slice(0, 4).map((off) => off()));
    expect(unsubscribe).not.toHaveBeenCalled();
    expect(await numsub('a')).toBe(1);
    await onA[4]();
    expect(unsubscribe).toHaveBeenCalledTimes(1);
    expect(await numsub('a')).toBe(0);
    await Promise.all(onB.map((off) => off()));
    expect(unsubscribe).toHaveBeenCalledTimes(2);
    expect((await subscriberInfo(name))?.sub).toBe('0');
    expect(errors).toEqual([]);
  }, 20_000);

  it('takes back one registration of a listener with unsubscribe(channel, listener)', async () => {
    const b = broker();
    const unsubscribe = jest.spyOn((b as unknown as { sub: Redis }).sub, 'unsubscribe');
    const got: string[] = [];
    const listener = { onMessage: (payload: string) => got.push(payload) };
    await b.subscribe('o', listener);
    const off = await b.subscribe('o', listener);
    const publisher = broker();
    await publisher.ping();
    await publisher.publish('o', 'twice');
    await waitFor('both registrations to be called', () => got.length === 2, 15_000, 20);
    await b.unsubscribe('o', listener);
    expect(unsubscribe).not.toHaveBeenCalled();
    expect(await numsub('o')).toBe(1);
    await off();
    await off(); // once only: the registration it held is already gone
    expect(unsubscribe).toHaveBeenCalledTimes(1);
    expect(await numsub('o')).toBe(0);
    await b.unsubscribe('o', listener); // nothing left to take back
    expect(unsubscribe).toHaveBeenCalledTimes(1);
    expect(got).toEqual(['twice', 'twice']);
    expect(errors).toEqual([]);
  }, 20_000);

  it('carries session hints from one broker instance to another', async () => {
    const [S1] = sessionIds(1, 'r');
    const receiver = broker();
    const sender = broker();
    await sender.ping();
    const hints: SessionHint[] = [];
    await receiver.subscribe(sessionChannel(S1), (payload) => hints.push(JSON.parse(payload)));
    const event = {
      sessionId: S1,
      seq: 2,
      type: 'message.delta' as const,
      data: { turnId: 't', text: 'hi' },
      createdAt: new Date().toISOString(),
    };
    await publishEvents(sender, [event]);
    await waitFor('one hint', () => hints.length === 1, 15_000, 20);
    expect(hints).toEqual([{ sessionId: S1, headSeq: 2, events: [event] }]);
  }, 20_000);

  it('streams events published through another broker instance', async () => {
    const [S1] = sessionIds(1, 's');
    const f = await HubFixture.start({}, broker());
    try {
      const other = broker();
      await other.ping();
      f.history.create(S1, 'ACTIVE');
      const client = await f.openLive(S1);
      await publishEvents(other, f.history.appendDeltas(S1, 3));
      await client.waitFor((c) => c.seqs.length === 5);
      expect(client.seqs).toEqual([1, 2, 3, 4, 5]);
      expect(f.history.headReads).toEqual([]);
    } finally {
      await f.stop();
    }
  }, 20_000);

  it('re-subscribes after its subscriber is killed; the hub recovers every event by sync', async () => {
    const [S1] = sessionIds(1, 'k');
    const name = `swtest-${randomBytes(4).toString('hex')}`;
    const local = broker(name);
    const remote = broker();
    await remote.ping();
    const f = await HubFixture.start({}, local); // no periodic sync within the test
    try {
      f.history.create(S1, 'ACTIVE');
      const client = await f.openLive(S1);
      let resubscribed = 0;
      const afterResubscribe: string[] = [];
      await local.subscribe('probe', (payload) => afterResubscribe.push(payload));
      // Published the moment the broker reports itself re-subscribed: must not be lost.
      local.onResubscribe(() => {
        resubscribed++;
        void remote.publish('probe', 'first-after-resubscribe');
      });

      const before = await subscriberInfo(name);
      expect(before).toBeDefined();
      await admin.call('CLIENT', 'KILL', 'ID', before!.id);
      // Appended and "published" while the subscriber is away: these hints are lost.
      await publishEvents(remote, f.history.appendDeltas(S1, 3));

      await waitFor('the resubscribe', () => resubscribed === 1, 15_000, 20);
      await client.waitFor((c) => c.seqs.length === 5);
      expect(client.seqs).toEqual([1, 2, 3, 4, 5]);
      expect(f.history.headReads.length).toBeGreaterThanOrEqual(1);
      await waitFor(
        'a message after the resubscribe',
        () => afterResubscribe.length === 1,
        15_000,
        20,
      );

      // Hints flow again on the restored subscription.
      await publishEvents(remote, f.history.appendDeltas(S1, 1));
      await client.waitFor((c) => c.seqs.length === 6);
      expect(client.seqs).toEqual([1, 2, 3, 4, 5, 6]);
      expect((await subscriberInfo(name))?.id).not.toBe(before!.id);
    } finally {
      await f.stop();
    }
  }, 20_000);
  it('closes at once a broker whose Redis never answered, leaving no retry loop behind', async () => {
    const { freePort } = await import('../../../../test/process');
    const dead = new RedisBroker({
      url: `redis://127.0.0.1:${await freePort()}`,
      onError: () => undefined,
    });
    await dead.close();
    const clients = dead as unknown as { pub: Redis; sub: Redis };
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([clients.pub.status, clients.sub.status]).toEqual(['end', 'end']);
  });
});
