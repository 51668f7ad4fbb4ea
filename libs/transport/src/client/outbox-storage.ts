/** A message waiting in an outbox, as persisted. */
export interface StoredOutboxMessage {
  clientMessageId: string;
  content: string;
  /** When `send` accepted it (ms since the epoch). */
  queuedAt: number;
}

/**
 * Where an outbox keeps its pending messages so they survive a reload. `save` receives the whole
 * pending list, oldest first, after every change; `load` returns the last list saved for that
 * session. Implementations may be synchronous or asynchronous.
 */
export interface OutboxStorage {
  load(sessionId: string): StoredOutboxMessage[] | Promise<StoredOutboxMessage[]>;
  save(sessionId: string, messages: readonly StoredOutboxMessage[]): void | Promise<void>;
}

/** Keeps pending messages in memory: they survive a new `Outbox` in the same page or process. */
export class MemoryOutboxStorage implements OutboxStorage {
  private readonly lists = new Map<string, StoredOutboxMessage[]>();

  load(sessionId: string): StoredOutboxMessage[] {
    return (this.lists.get(sessionId) ?? []).map((m) => ({ ...m }));
  }

  save(sessionId: string, messages: readonly StoredOutboxMessage[]): void {
    if (messages.length === 0) this.lists.delete(sessionId);
    else
      this.lists.set(
        sessionId,
        messages.map((m) => ({ ...m })),
      );
  }
}

/** The part of the Web Storage API the adapter uses (`window.localStorage` fits). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function isStoredMessage(value: unknown): value is StoredOutboxMessage {
  const m = value as StoredOutboxMessage;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.clientMessageId === 'string' &&
    typeof m.content === 'string' &&
    typeof m.queuedAt === 'number'
  );
}

/**
 * Persists pending messages in `localStorage` (or any `KeyValueStorage`) under
 * `<prefix><sessionId>`, so they survive a page reload. Unreadable entries are ignored on load.
 * `setItem` may throw (quota exceeded); the outbox reports that as an `error` and keeps the
 * message in memory.
 */
export class LocalStorageOutboxStorage implements OutboxStorage {
  constructor(
    private readonly storage: KeyValueStorage = globalThis.localStorage,
    private readonly prefix = 'sessionwire:outbox:',
  ) {
    if (!storage) throw new TypeError('LocalStorageOutboxStorage: no localStorage available');
  }

  load(sessionId: string): StoredOutboxMessage[] {
    const raw = this.storage.getItem(this.prefix + sessionId);
    if (!raw) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return []; // a damaged entry holds nothing we could send faithfully
    }
    return Array.isArray(parsed) ? parsed.filter(isStoredMessage) : [];
  }

  save(sessionId: string, messages: readonly StoredOutboxMessage[]): void {
    const key = this.prefix + sessionId;
    if (messages.length === 0) this.storage.removeItem(key);
    else this.storage.setItem(key, JSON.stringify(messages));
  }
}
