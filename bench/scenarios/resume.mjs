// Scenario 2 (and 6b for the peers): resume cost vs gap. A session already holds H events (written
// with one generate_series insert); a client resumes N events behind head. Time to first byte,
// time until live (all due events or the gap frame received), and bytes sent, for each N.
import { v7 as uuidv7 } from 'uuid';
import { openSse } from '../lib/sse.mjs';
import { Producer } from '../lib/producer.mjs';
import { adminQuery, freePort, startApi, Child, waitFor } from '../lib/services.mjs';
import { percentile, ratio, round } from '../lib/stats.mjs';

export function resumeParams(quick) {
  return quick
    ? { gaps: [10, 200, 1000], repeats: 2, timeoutMs: 10_000 }
    : { gaps: [10, 200, 10_000, 1_000_000], repeats: 5, timeoutMs: 30_000 };
}

/** Inserts a session with `count` events (seq 1 is its CREATED state) in one statement each. */
export async function seedSession(dbUrl, count, padding = 80) {
  const id = uuidv7();
  const turnId = uuidv7();
  await adminQuery(
    `insert into sessions (id, agent, state, head_seq) values ($1, 'demo', 'CREATED', $2)`,
    [id, count],
    dbUrl,
  );
  await adminQuery(
    `insert into events (session_id, seq, type, data)
     select $1, g, case when g = 1 then 'session.state' else 'message.delta' end,
            case when g = 1 then '{"from":null,"to":"CREATED","reason":"created"}'::jsonb
                 else jsonb_build_object('turnId', $3::text, 'text', $4::text) end
     from generate_series(1, $2::bigint) g`,
    [id, count, turnId, `@0|${'x'.repeat(padding)}`],
    dbUrl,
  );
  return id;
}

/**
 * One resume: opens the stream and resolves when `done(frame, count)` says so. Returns times in
 * ms since the request and the bytes received by then.
 */
function measure(url, { headers, done, timeoutMs }) {
  return new Promise((resolve, reject) => {
    let count = 0;
    let firstFrameMs = null;
    let gap = false;
    const stream = openSse(url, {
      headers,
      onFrame: (frame, at) => {
        if (firstFrameMs === null && frame.event !== 'heartbeat') firstFrameMs = at - stream.startedAt;
        if (frame.event === 'gap') gap = true;
        else if (frame.event !== 'live' && frame.event !== 'heartbeat') count += 1;
        if (done(frame, count)) {
          clearTimeout(timer);
          const result = { firstByteMs: stream.stats.firstByteMs, firstFrameMs, doneMs: at - stream.startedAt, bytes: stream.stats.bytes, events: count, gap };
          stream.close();
          resolve(result);
        }
      },
      onClose: (by, error) => {
        if (by === 'client') return;
        clearTimeout(timer);
        reject(new Error(`stream closed by ${by} after ${count} events${error ? `: ${error.message}` : ''}`));
      },
    });
    const timer = setTimeout(() => {
      stream.close();
      reject(new Error(`no completion within ${timeoutMs} ms (${count} events received)`));
    }, timeoutMs);
  });
}

function medianOf(trials, key) {
  return round(percentile(trials.map((t) => t[key]), 50), 2);
}

async function repeat(times, fn) {
  const trials = [];
  for (let i = 0; i < times; i++) trials.push(await fn());
  return summarize(trials);
}

/**
 * The peer's trials, each on its own: resumable-stream gives up on a resume whose first chunk takes
 * its producer more than a second (a fixed ack timeout), so some trials of one case may fail while
 * others finish. The medians are of those that finished, with the failures counted beside them.
 */
async function repeatCounting(times, fn) {
  const trials = [];
  const failures = [];
  for (let i = 0; i < times; i++) {
    try {
      trials.push(await fn());
    } catch (error) {
      failures.push(error);
    }
  }
  if (trials.length === 0) throw failures[0];
  return { ...summarize(trials), trials: times, failedTrials: failures.length, firstFailure: failures[0]?.message };
}

function summarize(trials) {
  return {
    firstByteMs: medianOf(trials, 'firstByteMs'),
    firstFrameMs: medianOf(trials, 'firstFrameMs'),
    doneMs: medianOf(trials, 'doneMs'),
    bytes: medianOf(trials, 'bytes'),
    events: trials[0].events,
    gapFrame: trials[0].gap,
  };
}

async function resumeSessionwire(ctx, params) {
  const head = Math.max(...params.gaps) + 10;
  const sessionId = await seedSession(ctx.db.url, head);
  const api = await startApi('api-resume', { databaseUrl: ctx.db.url, redisUrl: ctx.redis.url });
  try {
    const cases = {};
    for (const gap of params.gaps) {
      const url = `${api.url}/v1/sessions/${sessionId}/stream`;
      const headers = { 'last-event-id': String(head - gap) };
      cases[gap] = await repeat(params.repeats, () =>
        measure(url, { headers, done: (frame) => frame.event === 'live', timeoutMs: params.timeoutMs }),
      );
      console.log(`   Sessionwire resume ${gap} behind: live after ${cases[gap].doneMs} ms, ${cases[gap].bytes} bytes${cases[gap].gapFrame ? ' (gap frame)' : ''}`);
    }
    return { headSeq: head, maxReplayGap: 200, cases };
  } finally {
    await api.kill('SIGTERM');
  }
}

async function resumeResumable(ctx, params, frameBytes) {
  const port = await freePort();
  const node = new Child('rs-resume', process.execPath, ['bench/peers/resumable-node.mjs'], { env: { PORT: String(port), REDIS_URL: ctx.redis.url, BENCH_RUN: String(process.pid) } });
  const nodeUrl = `http://127.0.0.1:${port}`;
  const producer = new Producer('peers/resumable-node.mjs', 'resumable-producer', { REDIS_URL: ctx.redis.url, PORT: '', BENCH_RUN: String(process.pid) });
  try {
    await waitFor('resumable node', async () => (await fetch(`${nodeUrl}/readyz`)).ok);
    const { sessionIds } = await producer.request({ cmd: 'setup', sessions: 1 });
    const head = Math.max(...params.gaps) + 10;
    // frames as long as Sessionwire's, so bytes compare like for like
    const padding = Math.max(1, Math.round(frameBytes) - 'data: @0|\n\n'.length);
    const filled = await producer.request({ cmd: 'fill', id: sessionIds[0], count: head, padding });
    const cases = {};
    for (const gap of params.gaps) {
      const skip = filled.totalChars - gap * filled.frameChars;
      const url = `${nodeUrl}/stream/${sessionIds[0]}?skip=${skip}`;
      try {
        cases[gap] = await repeatCounting(params.repeats, () =>
          measure(url, { done: (_f, count) => count >= gap, timeoutMs: params.timeoutMs }),
        );
        const failures = cases[gap].failedTrials ? ` (${cases[gap].failedTrials} of ${cases[gap].trials} failed: ${cases[gap].firstFailure})` : '';
        console.log(`   resumable-stream resume ${gap} behind: caught up after ${cases[gap].doneMs} ms, ${cases[gap].bytes} bytes${failures}`);
      } catch (error) {
        const why = node.logs().trim().split('\n').at(-1) ?? '';
        cases[gap] = { failed: `${error.message}${why ? `; node: ${why}` : ''}` };
        console.log(`   resumable-stream resume ${gap} behind: FAILED (${error.message})`);
      }
    }
    return { headEvents: head, frameBytes: filled.frameChars, cases, note: 'replays every missed event (no cap); the producer joins its whole in-memory buffer on every resume and publishes the rest as one Redis message; only while the producer process lives' };
  } finally {
    await producer.close();
    await node.kill('SIGTERM');
  }
}

export async function resumeScenario(ctx) {
  const params = resumeParams(ctx.quick);
  const sessionwire = await resumeSessionwire(ctx, params);
  const frameBytes = sessionwire.cases[200].bytes / 200;
  const resumable = await resumeResumable(ctx, params, frameBytes);
  const [small, large] = [200, Math.max(...params.gaps)];
  const oursOverResumable = {};
  for (const gap of params.gaps) {
    const peer = resumable.cases[gap];
    oursOverResumable[gap] = {
      doneMs: ratio(sessionwire.cases[gap].doneMs, peer?.doneMs),
      bytes: ratio(sessionwire.cases[gap].bytes, peer?.bytes, 4),
    };
  }
  return {
    gaps: params.gaps,
    sessionwire,
    resumable,
    socketio: { supported: false, note: 'Socket.IO keeps no log and its Redis adapter does not support connection-state recovery: a client cannot resume from an offset; missed events are gone' },
    ratioLargestTo200: {
      gap: large,
      doneMs: ratio(sessionwire.cases[large].doneMs, sessionwire.cases[small].doneMs),
      bytes: ratio(sessionwire.cases[large].bytes, sessionwire.cases[small].bytes),
    },
    oursOverResumable,
  };
}
