import fs from 'node:fs';
import path from 'node:path';
import { LockedError, UsageError } from '../errors.js';

/**
 * One run per archive: `<state>/lock` names its owner and is created only if absent. Its first
 * line is the owner's pid; the second, where the OS tells it (Linux), the owner's boot and start
 * time, so a lock whose pid now belongs to another process (after a reboot, or a pid reused) is
 * told from a live run. A lock whose owner is gone (a crash, `kill -9`) is stale and taken over.
 */
export function acquireLock(stateDir: string, out: string): () => void {
  fs.mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, 'lock');
  const mine = `${process.pid}\n${identityLine(process.pid) ?? ''}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (create(file, mine)) {
      removeLeftovers(stateDir);
      return () => {
        try {
          if (readLock(file) === mine) fs.rmSync(file, { force: true });
        } catch {
          // Whatever is there now is not ours to remove.
        }
      };
    }
    const held = readLock(file);
    if (held === undefined) continue;
    const owner = liveOwner(held, file);
    if (owner !== false) throw new LockedError(out, owner);
    takeOverStale(file, held, out);
  }
  const owner = liveOwner(readLock(file) ?? '', file);
  throw new LockedError(out, owner === false ? undefined : owner);
}

/** link() codes for "this file system has no hard links" (FAT, exFAT, some NAS mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);
const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0);

/**
 * Make the lock with `content`, only if there is none; false if there is. The content is written
 * first and the lock appears whole through link(), which fails if it exists: no other run ever
 * sees a lock without its owner. Where link() is not supported, an exclusive create, then the
 * write: a lock seen empty for a moment is taken as held (see `liveOwner`).
 */
function create(file: string, content: string): boolean {
  const mine = `${file}.${process.pid}`;
  fs.rmSync(mine, { force: true });
  writeNew(mine, content);
  try {
    fs.linkSync(mine, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code)) throw error;
  } finally {
    fs.rmSync(mine, { force: true });
  }
  try {
    writeNew(file, content);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** A new file (never through a link), written and closed; EEXIST if the name is taken. */
function writeNew(file: string, content: string): void {
  const fd = fs.openSync(file, CREATE_NEW, 0o644);
  try {
    fs.writeSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Move a stale lock aside rather than delete it: if another run took it over between our read
 * and now, what we moved is its live lock, and it goes back instead of being lost.
 */
function takeOverStale(file: string, stale: string, out: string): void {
  const aside = `${file}.${process.pid}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = readLock(aside);
  const owner = moved === undefined || moved === stale ? false : liveOwner(moved, file);
  if (owner !== false && moved !== undefined) {
    // A third run may hold it now; it is the owner either way.
    create(file, moved);
    fs.rmSync(aside, { force: true });
    throw new LockedError(out, owner);
  }
  fs.rmSync(aside, { force: true });
}

/** `lock.<pid>` and `lock.<pid>.stale` files that runs killed mid-acquire left behind. */
function removeLeftovers(stateDir: string): void {
  for (const name of fs.readdirSync(stateDir)) {
    const m = /^lock\.(\d+)(\.stale)?$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !isAlive(Number(m[1]))) fs.rmSync(path.join(stateDir, name), { force: true });
  }
}

/** The lock's text; undefined when there is none. A folder or link there is the user's to fix. */
function readLock(file: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (stat.isDirectory()) throw new UsageError(`${file} is a folder, not a lock file; remove it (x-media-dump never makes one)`);
  if (!stat.isFile()) throw new UsageError(`${file} is not a plain file; remove it (x-media-dump keeps its lock there)`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** How long an empty lock is taken as one being written right now (the no-link fallback). */
const EMPTY_LOCK_GRACE_MS = 10_000;

/**
 * The pid of the live run that holds a lock with this text; `undefined` for a run writing its
 * lock right now; false when the lock is stale: its pid is dead, or alive but another process
 * (its boot or start time differs from the ones recorded).
 */
function liveOwner(text: string, file: string): number | undefined | false {
  const [pidLine = '', identity = ''] = text.split('\n');
  const pid = Number.parseInt(pidLine, 10);
  if (!(Number.isSafeInteger(pid) && pid > 0)) {
    const age = Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    return text.trim() === '' && age < EMPTY_LOCK_GRACE_MS ? undefined : false;
  }
  if (pid === process.pid || !isAlive(pid)) return false;
  const now = identityLine(pid);
  // No identity recorded (an older lock, another OS) or none to compare: the pid decides.
  if (identity === '' || now === undefined) return pid;
  return now === `${identity}\n` ? pid : false;
}

/**
 * `boot=<boot id> start=<ticks>\n`: the boot a process runs in and when it started in it (field
 * 22 of /proc/<pid>/stat). Together they name one process; undefined where /proc does not say.
 */
function identityLine(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 is the command in parentheses and may hold spaces or ')': fields 3… follow the last ')'.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3];
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return start !== undefined && /^\d+$/.test(start) && boot !== '' ? `boot=${boot} start=${start}\n` : undefined;
  } catch {
    return undefined;
  }
}

/** A process with this pid exists (EPERM: it does, but is not ours to signal). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
