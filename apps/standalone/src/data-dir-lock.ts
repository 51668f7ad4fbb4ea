import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/** The lock file inside the data folder (PGlite ignores files it does not know). */
export const LOCK_FILE = 'sessionwire.lock';

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  token: string;
}

/** Another live process holds the folder; the message is the one sentence a user sees. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly owner: LockOwner,
  ) {
    const where = owner.host === hostname() ? '' : ` on host ${owner.host}`;
    super(
      `The data folder ${dir} is in use by another Sessionwire process (pid ${owner.pid}${where}, ` +
        `started ${owner.startedAt}); stop that one first, or start this one in another directory.`,
    );
    this.name = 'DataDirLockedError';
  }
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

export interface DataDirLock {
  /** The owner whose stale lock (dead process) was taken over, if any. */
  tookOverFrom?: LockOwner;
  release(): void;
}

/**
 * Makes this process the only one using `dir`. The lock file is created complete and atomically
 * (written aside, then hard-linked into place, which fails if it exists), so a reader never sees a
 * half-written owner. A lock whose process is gone (or is this pid: a restarted container) is moved
 * aside under a unique name and removed only if it is still the one judged stale; a live owner's
 * lock that was moved by mistake is put back. The lock is removed on release and at process exit.
 */
export function lockDataDir(dir: string, isAlive = processIsAlive): DataDirLock {
  const folder = resolve(dir);
  const path = join(folder, LOCK_FILE);
  mkdirSync(folder, { recursive: true });
  const me: LockOwner = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    token: randomUUID(),
  };
  let tookOverFrom: LockOwner | undefined;
  for (let round = 0; round < 5; round++) {
    if (create(path, me)) return held(path, me, tookOverFrom);
    const seen = readOwner(path);
    if (seen === 'missing') continue;
    const stale =
      seen === 'unreadable' ||
      (seen.host === me.host && (seen.pid === process.pid || !isAlive(seen.pid)));
    if (!stale) throw new DataDirLockedError(folder, seen as LockOwner);
    if (takeOver(path, seen, me.token) && seen !== 'unreadable') tookOverFrom = seen;
  }
  throw new Error(`could not lock the data folder ${folder}: its lock file keeps changing`);
}

function create(path: string, owner: LockOwner): boolean {
  const aside = `${path}.${owner.token}`;
  writeFileSync(aside, `${JSON.stringify(owner)}\n`);
  try {
    linkSync(aside, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(aside);
  }
}

function readOwner(path: string): LockOwner | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    return Number.isSafeInteger(owner.pid) && typeof owner.token === 'string'
      ? owner
      : 'unreadable';
  } catch {
    return 'unreadable'; // not written by this module: nobody can be its owner
  }
}

/** Moves the stale lock aside; true when what was moved is the lock judged stale. */
function takeOver(path: string, seen: LockOwner | 'unreadable', token: string): boolean {
  const moved = `${path}.stale-${token}`;
  try {
    renameSync(path, moved);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const found = readOwner(moved);
  const same =
    seen === 'unreadable'
      ? found === 'unreadable'
      : found !== 'missing' && found !== 'unreadable' && found.token === seen.token;
  try {
    if (!same) linkSync(moved, path); // a new owner's lock: put it back
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(moved);
  }
  return same;
}

function held(path: string, me: LockOwner, tookOverFrom: LockOwner | undefined): DataDirLock {
  const release = () => {
    process.off('exit', release);
    const current = readOwner(path);
    if (current !== 'missing' && current !== 'unreadable' && current.token === me.token) {
      unlinkSync(path);
    }
  };
  process.on('exit', release);
  return { tookOverFrom, release };
}
