import fs from 'node:fs';
import path from 'node:path';
import { LockedError } from '../errors.js';

/**
 * One run per archive: `<state>/lock` holds the owner's pid and is created only if absent.
 * A lock whose pid is no longer alive (a crash, `kill -9`) is stale and taken over.
 */
export function acquireLock(stateDir: string, out: string): () => void {
  fs.mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, 'lock');
  // The pid is written first and the lock appears whole through link(), which fails if the
  // lock exists: no other run ever sees a lock without its owner's pid.
  const mine = `${file}.${process.pid}`;
  fs.writeFileSync(mine, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.linkSync(mine, file);
        removeLeftovers(stateDir);
        return () => {
          if (readPid(file) === process.pid) fs.rmSync(file, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const pid = readPid(file);
      if (pid !== undefined && pid !== process.pid && isAlive(pid)) throw new LockedError(out, pid);
      takeOverStale(file, pid, out);
    }
    throw new LockedError(out, readPid(file) ?? 0);
  } finally {
    fs.rmSync(mine, { force: true });
  }
}

/**
 * Move a stale lock aside rather than delete it: if another run took it over between our read
 * and now, what we moved is its live lock, and it goes back instead of being lost.
 */
function takeOverStale(file: string, stalePid: number | undefined, out: string): void {
  const aside = `${file}.${process.pid}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = readPid(aside);
  if (moved !== stalePid && moved !== undefined && isAlive(moved)) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // A third run holds it now; it is the owner either way.
    }
    fs.rmSync(aside, { force: true });
    throw new LockedError(out, moved);
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

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
