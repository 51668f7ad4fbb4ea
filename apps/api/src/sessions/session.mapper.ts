import type { SessionRow } from '@sessionwire/events';
import type { Activity, Session, SessionState } from '@sessionwire/transport/protocol';
import { validationFailed } from '../errors/problem';
import { UUID_PATTERN } from './sessions.schemas';

export function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    agent: row.agent,
    state: row.state as SessionState,
    activity: row.activity as Activity,
    headSeq: Number(row.headSeq),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    metadata: row.metadata,
  };
}

const CURSOR_PREFIX = 's1.';

/** `nextCursor` of the session list: opaque to clients (the last session's id, encoded). */
export function encodeListCursor(lastId: string): string {
  return Buffer.from(CURSOR_PREFIX + lastId, 'utf8').toString('base64url');
}

export function decodeListCursor(cursor: string): string {
  const raw = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const id = raw.startsWith(CURSOR_PREFIX) ? raw.slice(CURSOR_PREFIX.length) : '';
  if (!UUID_PATTERN.test(id)) throw validationFailed('invalid cursor: use a nextCursor as given');
  return id.toLowerCase();
}
