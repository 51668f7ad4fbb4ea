import { randomUUID } from 'node:crypto';
import { freePort } from '../../../../test/process';
import { connectPostgres } from '../database';
import { EventStore } from '../event-store';
import { databaseErrorMessage } from '../unavailable';
import { CommitFailedError } from './write-errors';

describe(CommitFailedError.name, () => {
  it('says rolled_back when the connection could not even be opened (nothing was sent)', async () => {
    const handle = connectPostgres({
      url: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`,
      applicationName: 'sessionwire-test',
    });
    const store = new EventStore(handle.db);
    try {
      const failure = await store
        .append(randomUUID(), [{ type: 'message.delta', data: { turnId: 't', text: 'x' } }])
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(CommitFailedError);
      expect((failure as CommitFailedError).outcome).toBe('rolled_back');
    } finally {
      await handle.close();
    }
  });
});

describe(databaseErrorMessage.name, () => {
  it('gives the driver’s words, not the SQL that drizzle wraps them in', () => {
    const driver = new Error('Connection terminated unexpectedly');
    const wrapped = Object.assign(new Error('Failed query: select 1\nparams: '), {
      query: 'select 1',
      cause: driver,
    });
    expect(databaseErrorMessage(wrapped)).toBe('Connection terminated unexpectedly');
    expect(databaseErrorMessage(driver)).toBe('Connection terminated unexpectedly');
  });
});
