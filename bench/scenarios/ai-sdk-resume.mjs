// Scenario 9: an AI SDK chat resumes a half-finished 2,000-token turn (`useChat({ resume: true })`
// after a reload): the turn has written 1,000 text deltas and is still running. Ours: Sessionwire's
// `GET /v1/ai-sdk/chat/:id/stream` (the turn replayed from its turn.started out of Postgres, on
// any node). Peer: a minimal AI SDK route made resumable with resumable-stream (the turn's chunks
// in the producer's memory, replayed through Redis). Both send the same UI message chunks (same
// ids and deltas), so bytes compare like for like. Time to the first replayed chunk, time until
// every written delta arrived, and bytes by then; medians of `repeats` resumes, in the same run.
import { v7 as uuidv7 } from 'uuid';
import { openSse } from '../lib/sse.mjs';
import { Producer } from '../lib/producer.mjs';
import { adminQuery, startApi, waitFor, freePort } from '../lib/services.mjs';
import { percentile, ratio, round } from '../lib/stats.mjs';

const TURN_TOKENS = 2000;

function params(quick) {
  return quick ? { written: 100, repeats: 2, timeoutMs: 10_000 } : { written: TURN_TOKENS / 2, repeats: 7, timeoutMs: 30_000 };
}

/** A session whose open turn has written `written` deltas (`t0 ` …): seqs 1–3 are its state, message and turn.started. */
async function seedRunningTurn(dbUrl, written) {
  const id = uuidv7();
  const turnId = uuidv7();
  const head = 3 + written;
  await adminQuery(
    `insert into sessions (id, agent, state, activity, head_seq, last_input_seq, processed_seq, turn_id, turn_input_seq, owner, lease_expires_at, lease_epoch)
     values ($1, 'demo', 'ACTIVE', 'running', $2, 2, 0, $3, 2, 'bench', now() + interval '1 hour', 1)`,
    [id, head, turnId],
    dbUrl,
  );
  await adminQuery(
    `insert into events (session_id, seq, type, data)
     select $1, g,
            case g when 1 then 'session.state' when 2 then 'message.user' when 3 then 'turn.started' else 'message.delta' end,
            case g when 1 then '{"from":null,"to":"CREATED","reason":"created"}'::jsonb
                   when 2 then '{"clientMessageId":"m1","content":"/stream 2000"}'::jsonb
                   when 3 then jsonb_build_object('turnId', $3::text, 'inputSeq', 2)
                   else jsonb_build_object('turnId', $3::text, 'text', 't' || (g - 4) || ' ') end
     from generate_series(1, $2::bigint) g`,
    [id, head, turnId],
    dbUrl,
  );
  return { id, turnId };
}

/** One resume: resolves once `written` text deltas arrived. */
function measure(url, written, timeoutMs) {
  return new Promise((resolve, reject) => {
    let deltas = 0;
    let firstChunkMs = null;
    const stream = openSse(url, {
      onFrame: (frame, at) => {
        if (frame.data === '[DONE]') return;
        if (firstChunkMs === null) firstChunkMs = at - stream.startedAt;
        if (JSON.parse(frame.data).type === 'text-delta') deltas += 1;
        if (deltas === written) {
          clearTimeout(timer);
          const result = { firstChunkMs, doneMs: at - stream.startedAt, bytes: stream.stats.bytes };
          stream.close();
          resolve(result);
        }
      },
      onClose: (by) => {
        if (by === 'client') return;
        clearTimeout(timer);
        reject(new Error(`stream closed by ${by} after ${deltas} deltas (status ${stream.stats.status})`));
      },
    });
    const timer = setTimeout(() => {
      stream.close();
      reject(new Error(`${deltas} of ${written} deltas within ${timeoutMs} ms`));
    }, timeoutMs);
  });
}

async function repeat(times, fn) {
  const trials = [];
  for (let i = 0; i < times; i++) trials.push(await fn());
  const median = (key) => round(percentile(trials.map((t) => t[key]), 50), 2);
  return { firstChunkMs: median('firstChunkMs'), doneMs: median('doneMs'), bytes: median('bytes') };
}

async function resumeOurs(ctx, p) {
  const { id, turnId } = await seedRunningTurn(ctx.db.url, p.written);
  const api = await startApi('api-ai-sdk', { databaseUrl: ctx.db.url, redisUrl: ctx.redis.url });
  try {
    const url = `${api.url}/v1/ai-sdk/chat/${id}/stream`;
    const figures = await repeat(p.repeats, () => measure(url, p.written, p.timeoutMs));
    console.log(`   Sessionwire AI SDK resume: first chunk ${figures.firstChunkMs} ms, ${p.written} deltas after ${figures.doneMs} ms, ${figures.bytes} bytes`);
    return { turnId, ...figures };
  } finally {
    await api.kill('SIGTERM');
  }
}

async function resumePeer(ctx, p, turnId) {
  const port = await freePort();
  const peer = new Producer('peers/resumable-ai-sdk.mjs', 'resumable-ai-sdk', { REDIS_URL: ctx.redis.url, PORT: String(port) });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor('resumable-stream AI SDK route', async () => (await fetch(`${base}/readyz`)).ok);
    const id = `chat-${Date.now()}`;
    await peer.request({ cmd: 'start', id, turnId, tokens: p.written });
    const figures = await repeat(p.repeats, () => measure(`${base}/api/chat/${id}/stream`, p.written, p.timeoutMs));
    console.log(`   resumable-stream AI SDK resume: first chunk ${figures.firstChunkMs} ms, ${p.written} deltas after ${figures.doneMs} ms, ${figures.bytes} bytes`);
    return figures;
  } finally {
    await peer.close();
  }
}

export async function aiSdkResumeScenario(ctx) {
  const p = params(ctx.quick);
  const sessionwire = await resumeOurs(ctx, p);
  const resumable = await resumePeer(ctx, p, sessionwire.turnId);
  delete sessionwire.turnId;
  return {
    turnTokens: ctx.quick ? p.written * 2 : TURN_TOKENS,
    writtenDeltas: p.written,
    repeats: p.repeats,
    sessionwire,
    resumable: {
      ...resumable,
      note: 'the turn lives in the producer process memory; when that process dies the chat cannot be resumed, and every resume replays the whole buffer',
    },
    oursOverResumable: {
      firstChunkMs: ratio(sessionwire.firstChunkMs, resumable.firstChunkMs),
      doneMs: ratio(sessionwire.doneMs, resumable.doneMs),
      bytes: ratio(sessionwire.bytes, resumable.bytes, 4),
    },
  };
}

export function aiSdkResumeReport(figures, _out, lines) {
  const { sessionwire: ours, resumable: peer, oursOverResumable: r } = figures;
  lines.push(
    `A chat resumes (\`useChat({ resume: true })\` after a reload) while its ${figures.turnTokens}-token turn is half written ` +
      `(${figures.writtenDeltas} text deltas sent, still running). Both routes send the same UI message chunks; medians of ${figures.repeats} resumes.`,
    '',
    '| | first replayed chunk (ms) | all written deltas (ms) | bytes |',
    '|---|---:|---:|---:|',
    `| Sessionwire \`GET /v1/ai-sdk/chat/:id/stream\` | ${ours.firstChunkMs} | ${ours.doneMs} | ${ours.bytes} |`,
    `| resumable-stream AI SDK route | ${peer.firstChunkMs} | ${peer.doneMs} | ${peer.bytes} |`,
    `| ours / theirs | ${r.firstChunkMs} | ${r.doneMs} | ${r.bytes} |`,
    '',
    "Sessionwire replays the turn from its `turn.started` out of Postgres (a lookup of the turn, then the turn's events in pages) on any node; resumable-stream replays from the producer's memory through one Redis round trip, and only while that process lives: when it dies, the chat cannot be resumed at all.",
    '',
  );
}
