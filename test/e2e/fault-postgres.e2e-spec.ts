import type { StoredEvent } from '../../libs/transport/src/protocol';
import { LocalCluster } from '../cluster';
import { testRedisPrefix, testRedisUrl, type TestDatabase } from '../database';
import { PrivatePostgres } from '../private-postgres';
import { freePort, sleep, waitFor } from '../process';
import {
  createSessions,
  endAndVerify,
  FAULT_ENV,
  FaultClient,
  post,
  readLog,
  waitForTurns,
} from './fault-support';

const LEASE_MS = Number(FAULT_ENV.LEASE_MS);
/** Slack on top of LEASE_MS + downtime: a sweep period, a claim, a few commits. */
const SLACK_MS = 5_000;
const SESSIONS = 8;
const TOKENS = Array.from({ length: 300 }, (_, i) => `t${i} `).join('');

// Postgres goes away under a running cluster (two API nodes, one worker) while every session
// streams a 6 s turn: restarted, stopped for 10 s, or the worker's (or the API nodes') backends
// terminated. Every turn must end (completed, or closed as the contract says for a lost turn)
// soon after Postgres is back, no client may lose or repeat an event, and every session must
// answer its next message. The Postgres is the test's own, so no other test file feels it.
describe('Fault suite: Postgres restarted, stopped, backends terminated', () => {
  let pg: PrivatePostgres;
  let db: TestDatabase;
  let cluster: LocalCluster | undefined;
  let metricsPort: number;

  beforeAll(async () => {
    metricsPort = await freePort();
    pg = await PrivatePostgres.start();
    db = pg.database();
    cluster = await LocalCluster.start({
      apiNodes: 2,
      workers: 1,
      databaseUrl: pg.url,
      redisUrl: testRedisUrl(),
      env: { ...FAULT_ENV, REDIS_PREFIX: testRedisPrefix(), MAX_REPLAY_GAP: '100000' },
      workerEnv: { METRICS_PORT: String(metricsPort) },
    });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
    await pg?.destroy();
  }, 60_000);

  /**
   * Starts a `/stream 300 20` turn in each of 8 new sessions, runs `fault` 1.5 s into the turns,
   * and checks the outcome; `fault` returns how long Postgres was unreachable (ms).
   */
  async function survives(fault: () => Promise<number>, goesOn = false): Promise<void> {
    try {
      await scenario(fault, goesOn);
    } catch (error) {
      console.log(cluster?.logs()); // what the processes said, for a failing scenario
      throw error;
    }
  }

  async function scenario(fault: () => Promise<number>, goesOn: boolean): Promise<void> {
    const c = cluster!;
    const sessionIds = await createSessions(c.url, SESSIONS);
    const clients = sessionIds.map((id) => new FaultClient(c.url, id).start());
    await waitFor('every client connected', () => clients.every((cl) => cl.connections > 0));
    await Promise.all(
      sessionIds.map((id) =>
        post(`${c.url}/v1/sessions/${id}/messages`, { content: '/stream 300 20' }),
      ),
    );
    await sleep(1_500);
    const faultAt = Date.now();
    const downMs = await fault();
    const budget = LEASE_MS + downMs + SLACK_MS - (Date.now() - faultAt);
    await waitForTurns(db, sessionIds, 1, Math.max(budget, 1_000));

    for (const id of sessionIds) {
      const log = await readLog(db, id);
      expectTurnsClosed(log, 1);
      // Postgres back at once: the worker's retried writes carry the turn on to its end, whole.
      if (goesOn) expect({ id, reply: replyOf(log) }).toEqual({ id, reply: TOKENS });
    }
    await Promise.all(
      sessionIds.map((id) => postWhenUp(`${c.url}/v1/sessions/${id}/messages`, 'still there?')),
    );
    await waitForTurns(db, sessionIds, 2, 30_000);
    for (const id of sessionIds) {
      const log = await readLog(db, id);
      expectTurnsClosed(log, 2);
      const last = log.filter((e) => e.type === 'turn.completed').at(-1)!;
      expect({ id, stopReason: (last.data as { stopReason: string }).stopReason }).toEqual({
        id,
        stopReason: 'end_turn',
      });
    }
    await endAndVerify(c, db, sessionIds, clients);
  }

  it('ends every turn and answers again after Postgres is restarted mid-turn', async () => {
    await survives(async () => {
      const from = Date.now();
      await pg.restart();
      return Date.now() - from;
    });
  });

  it('ends every turn and answers again after Postgres was down for 10 s', async () => {
    const worker = `http://127.0.0.1:${metricsPort}`;
    await survives(async () => {
      const from = Date.now();
      await pg.stop('fast');
      // What it looks like from outside: the worker reports it, the API answers 503.
      await waitFor('the worker to report Postgres down', async () => {
        const ready = await fetch(`${worker}/readyz`);
        const metrics = await (await fetch(`${worker}/metrics`)).text();
        const body = (await ready.json()) as { database: string };
        return (
          ready.status === 503 &&
          body.database === 'down' &&
          /^sessionwire_worker_database_up 0$/m.test(metrics)
        );
      });
      const refused = await fetch(`${cluster!.url}/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      expect(((await refused.json()) as { code: string }).code).toBe('unavailable');
      await sleep(10_000 - (Date.now() - from));
      await pg.launch();
      return Date.now() - from;
    });
    await waitFor('the worker to report Postgres up', async () => {
      return (await fetch(`${worker}/readyz`)).status === 200;
    });
  });

  it('ends every turn and answers again when the worker’s backends are terminated', async () => {
    await survives(async () => {
      let terminated = 0;
      for (let round = 0; round < 3; round++) {
        terminated += await pg.terminate('sessionwire-worker');
        await sleep(300);
      }
      expect(terminated).toBeGreaterThan(0);
      return 0;
    }, true);
  });

  it('loses and repeats nothing while the API nodes’ backends are terminated mid-stream', async () => {
    await survives(async () => {
      let terminated = 0;
      for (let round = 0; round < 6; round++) {
        terminated += await pg.terminate('sessionwire-api');
        await sleep(400);
      }
      expect(terminated).toBeGreaterThan(0);
      return 0;
    }, true);
  });
});

/**
 * Every `message.user` has exactly one `turn.started … turn.completed` pair, in order; a turn
 * closed other than by `end_turn` or `worker_lost` says why in an `agent.error` before it.
 */
function expectTurnsClosed(log: StoredEvent[], turns: number): void {
  const seqs = log.map((e) => e.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  const of = (type: string) => log.filter((e) => e.type === type);
  expect(of('message.user')).toHaveLength(turns);
  expect(of('turn.started')).toHaveLength(turns);
  const completed = of('turn.completed');
  expect(completed).toHaveLength(turns);
  const open = new Set<string>();
  for (const event of log) {
    const data = event.data as { turnId?: string; stopReason?: string };
    if (event.type === 'turn.started') open.add(data.turnId!);
    if (event.type === 'turn.completed') {
      expect(open.delete(data.turnId!)).toBe(true);
      expect(['end_turn', 'worker_lost', 'error']).toContain(data.stopReason);
      if (data.stopReason === 'error') {
        const errors = log.filter(
          (e) => e.type === 'agent.error' && (e.data as { turnId?: string }).turnId === data.turnId,
        );
        expect(errors.length).toBeGreaterThan(0);
      }
    }
  }
  expect([...open]).toEqual([]);
}

/** The first turn's reply: its deltas, which must equal its `message.completed` text. */
function replyOf(log: StoredEvent[]): string | undefined {
  const completed = log.find((e) => e.type === 'message.completed');
  const deltas = log
    .filter((e) => e.type === 'message.delta')
    .map((e) => (e.data as { text: string }).text)
    .join('');
  const text = (completed?.data as { text?: string } | undefined)?.text;
  return text === deltas ? text : `deltas ${deltas.length} chars, completed ${text?.length}`;
}

/** POSTs a message, retrying while the cluster answers 503 (Postgres just came back). */
async function postWhenUp(url: string, content: string): Promise<void> {
  const clientMessageId = `again-${Math.random().toString(36).slice(2)}`;
  await waitFor(
    `POST ${url} accepted`,
    async () => {
      await post(url, { clientMessageId, content });
      return true;
    },
    20_000,
    200,
  );
}
