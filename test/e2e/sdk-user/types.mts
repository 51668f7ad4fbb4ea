// Type-checked (not run) against the installed package with moduleResolution nodenext, as ESM.
import {
  Outbox,
  SessionStream,
  type OutboxMessage,
  type StoredEvent,
  type OfflineInfo,
} from '@sessionwire/client';

const options = { baseUrl: 'http://localhost:3000', sessionId: 's', giveUpAfterMs: 60_000 };
const stream = new SessionStream(options);
stream.on('event', (event: StoredEvent) => {
  if (event.type === 'message.delta') {
    const text: string = event.data.text;
    void text;
  }
  // @ts-expect-error: message.user has no `text`
  if (event.type === 'message.user') void event.data.text;
});
stream.on('offline', (offline: OfflineInfo) => void offline.error.message);
const outbox = new Outbox(options);
const sent: Promise<OutboxMessage> = outbox.send('hello');
void sent;
// @ts-expect-error: a misspelt option is refused
new Outbox({ ...options, maxPendnig: 3 });
