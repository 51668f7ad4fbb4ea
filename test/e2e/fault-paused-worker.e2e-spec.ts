import { LocalCluster } from '../cluster';
import { createTestDatabase, testRedisPrefix, testRedisUrl, type TestDatabase } from '../database';
import { freePort, sleep, waitFor, type ManagedProcess } from '../process';
import {
  createSessions,
  endAndVerify,
  FAULT_ENV,
  FaultClient,
  post,
  readLog,
  waitForTurns,
} from './fault-support';
import { workerProcess } from './worker-processes';

const LEASE_MS = 2000;

async function metric(port: number, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const key = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(key));
  return Number(line?.split(' ').at(-1) ?? 0);
}

// The GC-pause / VM-freeze case fencing exists for: a worker stopped mid-turn for longer than its
// lease wakes up believing it still holds its sessions. It must write nothing, give them up and
// go on serving.
describe('Fault suite: a paused worker', () => {
  let db: TestDatabase;
  let cluster: LocalCluster | undefined;
  const workers: ManagedProcess[] = [];
  const metricsPorts: number[] = [];
  const prefix = testRedisPrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    cluster = await LocalCluster.start({
      apiNodes: 2,
      workers: 0,
      databaseUrl: db.url,
      redisUrl: testRedisUrl(),
      env: { ...FAULT_ENV, REDIS_PREFIX: prefix, MAX_REPLAY_GAP: '100000' },
    });
    for (const name of ['paused', 'other']) {
      const port = await freePort();
      metricsPorts.push(port);
      workers.push(
        workerProcess(db, prefix, `worker-${name}`, {
          ...FAULT_ENV,
          LEASE_MS: String(LEASE_MS),
          METRICS_PORT: String(port),
        }),
      );
    }
  }, 90_000);

  afterAll(async () => {
    for (const worker of workers) {
      if (worker.pid !== undefined && worker.running) process.kill(worker.pid, 'SIGCONT');
      await worker.stop();
    }
    await cluster?.stop();
    await db?.drop();
  }, 60_000);

  it('writes nothing after waking past its lease, gives the session up and keeps serving', async () => {
    const c = cluster!;
    const [paused, other] = workers;
    const sessionIds = await createSessions(c.url, 3);
    const clients = sessionIds.map((id) => new FaultClient(c.url, id).start());
    // Only the first worker runs: it takes every session's turn.
    await paused.start();
    for (const id of sessionIds) {
      await post(`${c.url}/v1/sessions/${id}/messages`, { content: '/stream 400 20' });
    }
    await waitFor(
      'every turn streaming',
      async () => {
        for (const id of sessionIds) {
          if (!(await readLog(db, id)).some((e) => e.type === 'message.delta')) return false;
        }
        return true;
      },
      20_000,
      100,
    );
    process.kill(paused.pid!, 'SIGSTOP');
    const stoppedAt = Date.now();
    await other.start();
    // The other worker closes each turn worker_lost and answers the next message.
    for (const id of sessionIds) {
      await post(`${c.url}/v1/sessions/${id}/messages`, { content: '/stream 5 5' });
    }
    await waitForTurns(db, sessionIds, 2, 30_000);
    const lostAfterMs = Date.now() - stoppedAt;
    expect(Date.now() - stoppedAt).toBeGreaterThan(LEASE_MS);
    const before = new Map<string, number>();
    for (const id of sessionIds) before.set(id, (await readLog(db, id)).length);
    process.kill(paused.pid!, 'SIGCONT');
    // It notices, counts its refused writes and gives the sessions up.
    await waitFor(
      'the woken worker refused and gave up',
      async () =>
        (await metric(metricsPorts[0], 'sessionwire_worker_appends_total', 'outcome="refused"')) >
          0 && (await metric(metricsPorts[0], 'sessionwire_worker_sessions_held', '')) === 0,
      15_000,
      100,
    ).catch(async (error: unknown) => {
      throw new Error(
        `${String(error)}\n${await (await fetch(`http://127.0.0.1:${metricsPorts[0]}/metrics`)).text()}`,
      );
    });
    await sleep(LEASE_MS);
    for (const id of sessionIds) {
      const log = await readLog(db, id);
      expect(log.length).toBe(before.get(id));
      const completed = log.filter((e) => e.type === 'turn.completed');
      expect(completed.map((e) => (e.data as { stopReason: string }).stopReason)).toEqual([
        'worker_lost',
        'end_turn',
      ]);
    }
    // Still serving: with the other worker gone, the woken one answers new messages.
    await other.kill('SIGTERM');
    for (const id of sessionIds) {
      await post(`${c.url}/v1/sessions/${id}/messages`, { content: '/stream 5 5' });
    }
    await waitForTurns(db, sessionIds, 3, 30_000);
    expect(paused.running).toBe(true);
    await endAndVerify(c, db, sessionIds, clients);
    process.stdout.write(
      `paused worker: turns closed worker_lost and answered ${lostAfterMs} ms after SIGSTOP\n`,
    );
  }, 120_000);
});
