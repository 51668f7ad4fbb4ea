import type { Readable } from 'node:stream';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../chromium';
import { NginxProcess } from '../nginx';
import { waitFor } from '../process';
import {
  createSessions,
  expectMatchesLog,
  post,
  readLog,
  useFaultCluster,
  waitForTurns,
} from './fault-support';
import { ClientSet, describeClient, type ClientMix, type ClientView } from './nginx-clients';

interface LogLine {
  level: number;
  msg?: string;
  res?: { statusCode?: number };
  err?: unknown;
}

/** The JSON log lines a process prints from now on. */
function logLinesFrom(stdout: Readable): () => LogLine[] {
  let text = '';
  stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () =>
    text.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
}

async function openStreams(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('sessionwire_open_streams '));
  return Number(line?.split(' ')[1]);
}

// The shipped deploy/nginx/nginx.conf (only its Docker-specific lines changed for loopback) in
// front of two API nodes and a worker, with standard EventSource clients (the `eventsource`
// package and Chromium's own) and SDK streams, through a crash, a drain and a double failure.
describe('deploy/nginx/nginx.conf with standard EventSource clients', () => {
  let nginx: NginxProcess;
  let browser: Browser;
  let clients: ClientSet | undefined;

  // Registered before the cluster's own hooks, so this runs before the cluster stops.
  afterAll(async () => {
    await browser?.close();
    await nginx?.stop();
  });
  const suite = useFaultCluster({
    apiNodes: 2,
    workers: 1,
    // DRAIN_MS is long enough that reconnects reach the draining node while it still answers 503.
    env: { DRAIN_MS: '3000', MAX_REPLAY_GAP: '100000' },
    apiEnv: { LOG_LEVEL: 'info' },
  });
  beforeAll(async () => {
    const upstreams = suite.cluster.apiUrls.map((u) => new URL(u).host);
    browser = await launchChromium();
    nginx = await NginxProcess.start(upstreams);
  });

  afterEach(async () => {
    await clients?.close();
    clients = undefined;
    for (let i = 0; i < suite.cluster.apis.length; i++) {
      if (!suite.cluster.apis[i].running) await suite.cluster.restartApi(i);
    }
  });

  async function open(sessionIds: string[], mix: ClientMix): Promise<ClientSet> {
    const set = new ClientSet(nginx.url, browser);
    clients = set;
    await set.open(sessionIds, mix);
    await waitFor('every client to be live', async () => (await set.views()).every((v) => v.live));
    return set;
  }

  async function send(sessionId: string, content: string): Promise<void> {
    await post(`${nginx.url}/v1/sessions/${sessionId}/messages`, { content });
  }

  async function streaming(set: ClientSet): Promise<void> {
    const deltas = (v: ClientView) => v.events.filter((e) => e.type === 'message.delta').length;
    await waitFor('the turns to be streaming to every client', async () =>
      (await set.views()).every((v) => deltas(v) >= 3),
    );
  }

  /** Ends the sessions, waits for every client's `end`, and checks each against the log. */
  async function endAndVerify(sessionIds: string[], set: ClientSet): Promise<void> {
    for (const id of sessionIds) await post(`${nginx.url}/v1/sessions/${id}/end`, {});
    let views: ClientView[] = [];
    await waitFor(
      'every client to get end (or give up)',
      async () => (views = await set.views()).every((v) => v.ended || v.gaveUp),
      45_000,
      200,
    ).catch((error: Error) => {
      const stuck = views.filter((v) => !v.ended).map(describeClient);
      throw new Error(`${error.message}\nstill waiting: ${stuck.join('\n')}\n${nginx.logs()}`);
    });
    expect(views.filter((v) => v.gaveUp).map(describeClient)).toEqual([]);
    const logs = new Map<string, Awaited<ReturnType<typeof readLog>>>();
    for (const id of sessionIds) logs.set(id, await readLog(suite.db, id));
    for (const view of views) expectMatchesLog(view, logs.get(view.sessionId)!);
  }

  it('delivers an agent.error as a named event and never fires onerror', async () => {
    const [id] = await createSessions(nginx.url, 1);
    const set = await open([id], { eventsource: 1, chromium: 1, sdk: 1 });
    await send(id, '/fail');
    await waitForTurns(suite.db, [id], 1);
    await waitFor('every client to see the turn end', async () =>
      (await set.views()).every((v) => v.events.some((e) => e.type === 'turn.completed')),
    );
    const views = await set.views();
    for (const view of views) {
      expect({ kind: view.kind, errors: view.errors, unnamed: view.unnamed }).toEqual({
        kind: view.kind,
        errors: [],
        unnamed: 0,
      });
      const failure = view.events.find((e) => e.type === 'agent.error');
      expect(failure?.data).toMatchObject({ code: 'agent_failed' });
    }
    await endAndVerify([id], set);
  });

  it('resumes every client on the other node when the serving node is SIGKILLed mid-turn', async () => {
    const [id] = await createSessions(nginx.url, 1);
    const set = await open([id], { eventsource: 3, chromium: 2, sdk: 2 });
    await send(id, '/stream 150 20');
    await streaming(set);
    const counts = await Promise.all(suite.cluster.apiUrls.map(openStreams));
    const victim = counts[0] >= counts[1] ? 0 : 1;
    expect(counts[victim]).toBeGreaterThan(0);
    await suite.cluster.killApi(victim);
    await waitForTurns(suite.db, [id], 1);
    await suite.cluster.restartApi(victim);
    await endAndVerify([id], set);
  });

  it('moves all 16 streams on when a node holding half of them drains (SIGTERM)', async () => {
    const ids = await createSessions(nginx.url, 4);
    const set = await open(ids, { eventsource: 6, chromium: 6, sdk: 4 });
    await Promise.all(ids.map((id) => send(id, '/stream 200 25')));
    await streaming(set);
    let counts: number[] = [];
    await waitFor('the 16 streams to be open', async () => {
      counts = await Promise.all(suite.cluster.apiUrls.map(openStreams));
      return counts[0] + counts[1] === 16;
    });
    const drained = counts[0] >= counts[1] ? 0 : 1;
    const logLines = logLinesFrom(suite.cluster.apis[drained].child!.stdout!);
    await suite.cluster.killApi(drained, 'SIGTERM');
    expect(suite.cluster.apis[drained].exitCode).toBe(0);
    await suite.cluster.restartApi(drained);
    await waitForTurns(suite.db, ids, 1);
    await endAndVerify(ids, set);
    // Reconnects reached the node while it drained (and nginx passed them on); a drain is a
    // normal deploy: those refusals are logged at info, without an error, and nothing at error.
    const lines = logLines();
    const refused = lines.filter((l) => l.res?.statusCode === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.filter((l) => l.level !== 30 || l.err !== undefined)).toEqual([]);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('keeps every client when one node restarts and the other is lost at once', async () => {
    const [a, b] = suite.cluster.apiUrls;
    const [id] = await createSessions(nginx.url, 1);
    const set = await open([id], { eventsource: 3, chromium: 3, sdk: 2 });
    await send(id, '/stream 400 20');
    await streaming(set);
    const onlyOn = async (url: string) =>
      (await openStreams(url)) === 8 || (await set.views()).some((v) => v.gaveUp);
    await waitFor('the 8 streams to be open', async () => {
      const counts = await Promise.all([a, b].map(openStreams));
      return counts[0] + counts[1] === 8;
    });
    await suite.cluster.killApi(0);
    await waitFor('every client to be on node B (or to give up)', () => onlyOn(b), 20_000);
    await suite.cluster.restartApi(0);
    await suite.cluster.killApi(1);
    await waitFor('every client to be on node A (or to give up)', () => onlyOn(a), 20_000);
    await waitForTurns(suite.db, [id], 1);
    await suite.cluster.restartApi(1);
    await endAndVerify([id], set);
  });
});
