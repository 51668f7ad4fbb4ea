// A POST load process (forked by the accept scenario): `concurrency` loops, each posting a new
// message to a random session on alternating API nodes, for `durationMs`, over keep-alive HTTP.
//   {cmd:'run', urls, sessionIds, concurrency, durationMs} -> {type:'done', ok, statuses, latencies}
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

function post(base, sessionId) {
  const body = JSON.stringify({ content: 'hi', clientMessageId: randomUUID() });
  const url = new URL(`/v1/sessions/${sessionId}/messages`, base);
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

async function run({ urls, sessionIds, concurrency, durationMs }) {
  const deadline = performance.now() + durationMs;
  const latencies = [];
  const statuses = {};
  let n = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      for (let i = loop; performance.now() < deadline; i += concurrency) {
        const t0 = performance.now();
        const status = await post(urls[n++ % urls.length], sessionIds[Math.floor(Math.random() * sessionIds.length)]);
        latencies.push(performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { type: 'done', ok: (statuses[202] ?? 0) + (statuses[200] ?? 0), statuses, latencies, seconds };
}

process.on('message', (message) => {
  if (message.cmd === 'close') process.exit(0);
  if (message.cmd === 'run') {
    run(message).then(
      (reply) => process.send(reply),
      (error) => process.send({ type: 'error', message: error.stack ?? String(error) }),
    );
  }
});
process.on('disconnect', () => process.exit(0));
