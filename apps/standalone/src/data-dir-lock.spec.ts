import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLockedError, LOCK_FILE, lockDataDir, type LockOwner } from './data-dir-lock';

function owner(pid: number, host = hostname()): LockOwner {
  return { pid, host, startedAt: '2026-01-01T00:00:00.000Z', token: `token-${pid}` };
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe(lockDataDir.name, () => {
  let dir: string;
  const lockPath = () => join(dir, LOCK_FILE);
  const writeLock = (o: LockOwner | string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(lockPath(), typeof o === 'string' ? o : JSON.stringify(o));
  };
  const readLock = () => JSON.parse(readFileSync(lockPath(), 'utf8')) as LockOwner;

  beforeEach(() => (dir = join(mkdtempSync(join(tmpdir(), 'sessionwire-lock-')), '.data')));
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('creates the folder and a lock naming this process, and removes it on release', () => {
    const lock = lockDataDir(dir);
    expect(readLock()).toMatchObject({ pid: process.pid, host: hostname() });
    expect(lock.tookOverFrom).toBeUndefined();
    lock.release();
    expect(existsSync(lockPath())).toBe(false);
  });

  it('refuses a folder whose owner is alive, in one sentence naming the folder and its pid', () => {
    writeLock(owner(process.ppid));
    let refused: unknown;
    try {
      lockDataDir(dir);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DataDirLockedError);
    const message = (refused as Error).message;
    expect(message).toContain(`The data folder ${dir} is in use`);
    expect(message).toContain(`pid ${process.ppid}`);
    expect(message.split('\n')).toHaveLength(1);
    expect(readLock().pid).toBe(process.ppid); // untouched
  });

  it('takes over the lock of a process that is gone', () => {
    const dead = owner(deadPid());
    writeLock(dead);
    const lock = lockDataDir(dir);
    expect(lock.tookOverFrom).toEqual(dead);
    expect(readLock().pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock with its own pid (a restarted container) and an unreadable one', () => {
    writeLock(owner(process.pid));
    lockDataDir(dir).release();
    writeLock('{"half":');
    const lock = lockDataDir(dir);
    expect(readLock().pid).toBe(process.pid);
    lock.release();
  });

  it('refuses a lock from another host, whose process it cannot check', () => {
    writeLock(owner(deadPid(), 'elsewhere.example'));
    expect(() => lockDataDir(dir)).toThrow(/pid \d+ on host elsewhere\.example/);
  });

  it('release leaves alone a lock that another process took over meanwhile', () => {
    const lock = lockDataDir(dir);
    writeLock(owner(process.ppid));
    lock.release();
    expect(readLock().pid).toBe(process.ppid);
  });
});
