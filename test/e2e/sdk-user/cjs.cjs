// A user's CommonJS script: the same as esm.mjs through require().
const { HttpError, Outbox, SessionStream } = require('@sessionwire/client');

async function main() {
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
  await outbox.send('from cjs');
  let reply;
  for await (const item of stream) {
    if (item.kind !== 'event') continue;
    if (item.event.type === 'message.completed') reply = item.event.data.text;
    if (item.event.type === 'turn.completed') break;
  }
  outbox.close();

  // A refusal from the server arrives as an HttpError with the problem's code.
  const missing = new Outbox({ baseUrl, sessionId: '00000000-0000-7000-8000-000000000000' });
  const sent = await missing.send('nobody');
  const failed = await missing.settled(sent.clientMessageId);
  missing.close();
  console.log(
    JSON.stringify({
      reply,
      failed: [failed.state, failed.error.name, failed.error instanceof HttpError, failed.error.code],
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
