// Uses the built SDK the way a Node application would: `import 'sessionwire/client'` (ESM) and
// `require('sessionwire/client')` (CJS). Sends one message, prints the reply and the event seqs.
import { createRequire } from 'node:module';
import { Outbox, SessionStream } from 'sessionwire/client';

const require = createRequire(import.meta.url);
const cjs = require('sessionwire/client');
const [baseUrl, sessionId, content] = process.argv.slice(2);

const stream = new SessionStream({ baseUrl, sessionId, heartbeatMs: 1000 });
const outbox = new cjs.Outbox({ baseUrl, sessionId });
outbox.attach(stream);
const processed = [];
outbox.on('processed', (m) => processed.push(m.clientMessageId));
const sent = await outbox.send(content);

const seqs = [];
let reply;
for await (const item of stream) {
  if (item.kind !== 'event') continue;
  seqs.push(item.event.seq);
  if (item.event.type === 'message.completed') reply = item.event.data.text;
  if (item.event.type === 'turn.completed') break;
}
outbox.close();
console.log(
  JSON.stringify({
    reply,
    seqs,
    processed: processed.includes(sent.clientMessageId),
    cjsLoaded: typeof cjs.SessionStream === 'function' && cjs.Outbox !== Outbox,
  }),
);
