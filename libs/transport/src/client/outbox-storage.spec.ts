import { Outbox } from './outbox';
import { LocalStorageOutboxStorage, type KeyValueStorage } from './outbox-storage';
import { FakeClock, flush } from './testing/fake-clock';
import { FakeServer, json, SESSION_ID } from './testing/fake-server';

class MapStorage implements KeyValueStorage {
  readonly map = new Map<string, string>();
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.map.set(key, value);
  }
  removeItem(key: string) {
    this.map.delete(key);
  }
}

describe(LocalStorageOutboxStorage.name, () => {
  it('round-trips the pending list under a per-session key and removes it when empty', () => {
    const kv = new MapStorage();
    const storage = new LocalStorageOutboxStorage(kv, 'p:');
    const list = [{ clientMessageId: 'a', content: 'x', queuedAt: 1 }];
    storage.save(SESSION_ID, list);
    expect(JSON.parse(kv.getItem(`p:${SESSION_ID}`)!)).toEqual(list);
    expect(storage.load(SESSION_ID)).toEqual(list);
    expect(storage.load('other')).toEqual([]);
    storage.save(SESSION_ID, []);
    expect(kv.map.size).toBe(0);
  });

  it('ignores damaged entries', () => {
    const kv = new MapStorage();
    const storage = new LocalStorageOutboxStorage(kv);
    kv.setItem(`sessionwire:outbox:${SESSION_ID}`, '{not json');
    expect(storage.load(SESSION_ID)).toEqual([]);
    kv.setItem(`sessionwire:outbox:${SESSION_ID}`, JSON.stringify([{ clientMessageId: 'a' }, 7]));
    expect(storage.load(SESSION_ID)).toEqual([]);
  });

  it('lets queued messages survive a reload and go out with their original ids', async () => {
    const kv = new MapStorage();
    const clock = new FakeClock();
    const down = new FakeServer(() => 'hang');
    const before = new Outbox({
      baseUrl: 'http://api.test',
      sessionId: SESSION_ID,
      fetch: down.fetch,
      clock,
      storage: new LocalStorageOutboxStorage(kv),
    });
    const a = await before.send('a');
    const b = await before.send('b');
    before.close(); // the page goes away
    const up = new FakeServer((r) => {
      const { clientMessageId } = r.body as { clientMessageId: string };
      return json(202, { sessionId: SESSION_ID, seq: 1, clientMessageId, duplicate: false });
    });
    const after = new Outbox({
      baseUrl: 'http://api.test',
      sessionId: SESSION_ID,
      fetch: up.fetch,
      clock,
      storage: new LocalStorageOutboxStorage(kv),
    });
    expect(await after.ready).toEqual({ restored: 2, overflow: [] });
    await after.whenIdle();
    await flush();
    expect(up.requests.map((r) => (r.body as { clientMessageId: string }).clientMessageId)).toEqual(
      [a.clientMessageId, b.clientMessageId],
    );
    expect(a.clientMessageId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(kv.map.size).toBe(0);
  });
});
