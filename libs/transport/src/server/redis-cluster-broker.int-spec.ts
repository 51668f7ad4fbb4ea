import { randomBytes, randomUUID } from 'node:crypto';
import { parseClusterSeeds } from '@sessionwire/app-kit';
import calculateSlot from 'cluster-key-slot';
import { waitFor } from '../../../../test/process';
import { LocalRedisCluster } from '../../../../test/redis-cluster';
import {
  publishEvents,
  publishWork,
  sessionChannel,
  subscribeWork,
  WORK_CHANNELS,
  type WorkHint,
} from './broker';
import { createRedisBroker } from './broker-factory';
import { RedisClusterBroker } from './redis-cluster-broker';
import { HubFixture, sessionIds } from './testing/hub-fixture';

describe(RedisClusterBroker.name, () => {
  let cluster: LocalRedisCluster;
  const brokers: RedisClusterBroker[] = [];
  const errors: string[] = [];

  const broker = (name = `swtest-${randomBytes(4).toString('hex')}`) => {
    const created = new RedisClusterBroker({
      nodes: parseClusterSeeds(cluster.seeds),
      prefix: 'swtest:',
      connectionName: name,
      onError: (error, context) => errors.push(`${context}: ${error.message}`),
    });
    brokers.push(created);
    return created;
  };

  /** Sharded subscriber connections of one broker on each master, by `CLIENT LIST`. */
  const subscribersPerMaster = async (name: string): Promise<number[]> => {
    const masters = (await cluster.nodes()).filter((n) => n.role === 'master' && !n.failed);
    return Promise.all(
      masters.map(async (master) => {
        const list = await cluster.cli(master.port, 'client', 'list');
        return list
          .split('\n')
          .filter((line) => line.includes(`name=ioredis-cluster(ssubscriber):${name} `)).length;
      }),
    );
  };

  beforeAll(async () => {
    cluster = await LocalRedisCluster.start();
  }, 60_000);
  beforeEach(() => {
    errors.length = 0;
  });
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('spreads sessions and work channels over every master, one subscriber connection each', async () => {
    const name = `swtest-${randomBytes(4).toString('hex')}`;
    const receiver = broker(name);
    const sender = broker();
    await Promise.all([receiver.ping(), sender.ping()]);
    const ids = Array.from({ length: 30 }, () => randomUUID());
    const received = new Map<string, string[]>();
    for (const id of ids) {
      received.set(id, []);
      await receiver.subscribe(sessionChannel(id), (payload) => received.get(id)!.push(payload));
    }
    const masterOf = async (channel: string) =>
      (await cluster.masterOf(calculateSlot(`swtest:${channel}`))).port;
    const sessionMasters = new Set(
      await Promise.all(ids.map((id) => masterOf(sessionChannel(id)))),
    );
    expect(sessionMasters.size).toBe(3);
    const workMasters = new Map<number, number>();
    for (const channel of WORK_CHANNELS) {
      const port = await masterOf(channel);
      workMasters.set(port, (workMasters.get(port) ?? 0) + 1);
    }
    expect(workMasters.size).toBe(3);
    for (const count of workMasters.values()) expect(count).toBeGreaterThanOrEqual(10);
    expect(await subscribersPerMaster(name)).toEqual([1, 1, 1]);

    for (const id of ids) await sender.publish(sessionChannel(id), `hello ${id}`);
    await waitFor(
      'every session channel to get its message',
      () => ids.every((id) => received.get(id)!.length === 1),
      15_000,
      20,
    );
    expect(ids.map((id) => received.get(id))).toEqual(ids.map((id) => [`hello ${id}`]));
    expect(await receiver.stats()).toMatchObject({
      kind: 'redis-cluster',
      up: true,
      masters: 3,
      subscriberConnections: 3,
      channels: 30,
      resubscribes: 0,
      publishFailures: 0,
    });
    expect(errors).toEqual([]);
  });

  it('delivers every work hint to every worker, whatever channel it went on', async () => {
    const workers = [broker(), broker()];
    const api = broker();
    await api.ping();
    const seen = workers.map(() => [] as WorkHint[]);
    await Promise.all(
      workers.map((w, i) => subscribeWork(w, (payload) => seen[i].push(JSON.parse(payload)))),
    );
    const hints: WorkHint[] = Array.from({ length: 100 }, () => ({
      kind: 'input',
      sessionId: randomUUID(),
    }));
    for (const hint of hints) await publishWork(api, hint);
    await waitFor(
      'every worker to see every hint',
      () => seen.every((s) => s.length === hints.length),
      15_000,
      20,
    );
    // in order per session (one channel each); channels on different shards interleave freely
    const bySession = (list: WorkHint[]) => list.map((h) => h.sessionId).sort();
    for (const s of seen) expect(bySession(s)).toEqual(bySession(hints));
  });

  it('streams events published through another node to a hub, and unsubscribes after the last', async () => {
    const [S1] = sessionIds(1, 'c');
    const local = broker();
    const other = broker();
    await other.ping();
    const f = await HubFixture.start({}, local);
    try {
      f.history.create(S1, 'ACTIVE');
      const client = await f.openLive(S1);
      await publishEvents(other, f.history.appendDeltas(S1, 3));
      await client.waitFor((c) => c.seqs.length === 5);
      expect(client.seqs).toEqual([1, 2, 3, 4, 5]);
      expect(f.history.headReads).toEqual([]);
      expect((await local.stats()).channels).toBe(1);
    } finally {
      await f.stop();
    }
    await waitFor('no channel left', async () => (await local.stats()).channels === 0, 15_000, 20);
  });

  it('follows a live channel to its new master after a slot migration, then tells the hub', async () => {
    const [S1] = sessionIds(1, 'm');
    const local = broker();
    const remote = broker();
    await remote.ping();
    const f = await HubFixture.start({}, local);
    try {
      f.history.create(S1, 'ACTIVE');
      const client = await f.openLive(S1);
      let resubscribed = 0;
      const probe: string[] = [];
      const probeChannel = sessionChannel(S1).replace('session:', 'probe:');
      await local.subscribe(probeChannel, (payload) => probe.push(payload));
      local.onResubscribe(() => {
        resubscribed++;
        // published the moment the broker says it is subscribed again: must arrive
        void remote.publish(probeChannel, `after ${resubscribed}`);
      });
      const slot = calculateSlot(`swtest:${sessionChannel(S1)}`);
      const before = await cluster.masterOf(slot);
      const after = await cluster.migrateSlot(slot);
      expect(after.port).not.toBe(before.port);
      await waitFor('a resubscribe', () => resubscribed >= 1, 15_000, 20);
      await waitFor('the probe message', () => probe.length >= 1, 15_000, 20);
      await publishEvents(remote, f.history.appendDeltas(S1, 5));
      await client.waitFor((c) => c.seqs.length === 7);
      expect(client.seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect((await local.stats()).resubscribes).toBeGreaterThanOrEqual(1);
    } finally {
      await f.stop();
    }
  });

  it('is what createRedisBroker builds for a cluster connection', async () => {
    const made = createRedisBroker({
      redis: { kind: 'cluster', seeds: parseClusterSeeds(cluster.seeds) },
      connectionName: 'swtest-factory',
    });
    try {
      expect(made).toBeInstanceOf(RedisClusterBroker);
      await made.ping();
      expect((await made.stats()).kind).toBe('redis-cluster');
    } finally {
      await made.close();
    }
  });

  // Last: it kills a master (the cluster stays whole: its replica takes over).
  it('survives a master killed mid-stream: replica promoted, subscriptions restored, errors rate-limited', async () => {
    const [S1] = sessionIds(1, 'f');
    const local = broker();
    const remote = broker();
    await remote.ping();
    const f = await HubFixture.start({}, local); // no periodic sync: only hints and re-subscription
    try {
      f.history.create(S1, 'ACTIVE');
      const client = await f.openLive(S1);
      const work: WorkHint[] = [];
      await subscribeWork(local, (payload) => work.push(JSON.parse(payload)));
      const probe: string[] = [];
      const probeChannel = sessionChannel(S1).replace('session:', 'probe:');
      await local.subscribe(probeChannel, (payload) => probe.push(payload));
      let resubscribed = 0;
      local.onResubscribe(() => resubscribed++);
      const slot = calculateSlot(`swtest:${sessionChannel(S1)}`);
      const killing = cluster.killMasterOf(slot);
      // published while the master is dead or being replaced: none may hang the publisher
      const started = Date.now();
      for (let i = 0; i < 10; i++) {
        await publishEvents(remote, f.history.appendDeltas(S1, 1));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(Date.now() - started).toBeLessThan(10 * (100 + 400));
      await killing;
      // the hub re-reads what the failover swallowed as soon as the broker is subscribed again
      await waitFor('a resubscribe', () => resubscribed >= 1, 20_000, 20);
      await client.waitFor((c) => c.seqs.length === 12, 20_000);
      // hints flow again on the promoted master once the publisher has found it too
      await waitFor(
        'a probe through the promoted master',
        async () => {
          await remote.publish(probeChannel, 'ping');
          return probe.length > 0;
        },
        20_000,
        20,
      );
      await publishEvents(remote, f.history.appendDeltas(S1, 2));
      await client.waitFor((c) => c.seqs.length === 14, 20_000);
      expect(client.seqs).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
      // and so do work hints, on all 32 channels
      const hints: WorkHint[] = Array.from({ length: 200 }, () => ({
        kind: 'input',
        sessionId: randomUUID(),
      }));
      for (const hint of hints) await publishWork(remote, hint);
      await waitFor(
        'every work hint',
        () => hints.every((h) => work.some((w) => w.sessionId === h.sessionId)),
        15_000,
        20,
      );

      await waitFor('the broker up again', async () => (await local.stats()).up, 15_000, 20);
      const stats = await local.stats();
      expect(stats.resubscribes).toBeGreaterThanOrEqual(1);
      expect(stats.errors).toBeGreaterThan(0);
      // every error is counted, few are logged: at most one per context and 10 s
      const contexts = new Set(errors.map((e) => e.split(':')[0]));
      expect(errors.length).toBeLessThanOrEqual(contexts.size * 2);
    } finally {
      await f.stop();
    }
  }, 60_000);
});

describe(`${RedisClusterBroker.name} with AUTH`, () => {
  let cluster: LocalRedisCluster;
  beforeAll(async () => {
    cluster = await LocalRedisCluster.start({ password: 's3cret' });
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('connects with the credentials of redis:// seeds and carries hints', async () => {
    const seeds = cluster.ports.map((p) => `redis://:s3cret@127.0.0.1:${p}`).join(',');
    const [a, b] = [0, 1].map(() => new RedisClusterBroker({ nodes: parseClusterSeeds(seeds) }));
    try {
      await Promise.all([a.ping(), b.ping()]);
      const got: string[] = [];
      const id = randomUUID();
      await a.subscribe(sessionChannel(id), (payload) => got.push(payload));
      await b.publish(sessionChannel(id), 'hello');
      await waitFor('the message', () => got.length === 1, 15_000, 20);
      expect(got).toEqual(['hello']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const wrong = new RedisClusterBroker({
      nodes: parseClusterSeeds(seeds.replaceAll('s3cret', 'wrong')),
      onError: () => undefined,
    });
    try {
      await expect(wrong.ping(500)).rejects.toThrow();
    } finally {
      await wrong.close();
    }
  });
});
