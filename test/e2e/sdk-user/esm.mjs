// A user's ES module: sends one message through the installed @sessionwire/client, streams the reply.
import { NetworkError, Outbox, OutboxFullError, SessionStream } from '@sessionwire/client';

const baseUrl = process.env.SESSIONWIRE_URL;
const created = await fetch(`${baseUrl}/v1/sessions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: '{}',
});
const session = await created.json();
const stream = new SessionStream({ baseUrl, sessionId: session.id });
const outbox = new Outbox({ baseUrl, sessionId: session.id });
outbox.attach(stream);
await outbox.send('from esm');
let reply;
for await (const item of stream) {
  if (item.kind !== 'event') continue;
  if (item.event.type === 'message.completed') reply = item.event.data.text;
  if (item.event.type === 'turn.completed') break;
}
outbox.close();

// An error raised by the minified build keeps its class name.
const full = new Outbox({ baseUrl: 'http://127.0.0.1:9', sessionId: session.id, maxPending: 1 });
full.on('offline', () => {});
await full.send('waits');
const refused = await full.send('refused').catch((error) => error);
full.close();
console.log(
  JSON.stringify({
    reply,
    refused: [refused.name, refused instanceof OutboxFullError],
    networkError: new NetworkError('x').name,
  }),
);
