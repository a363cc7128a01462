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
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.linkSync(mine, file);
      fs.rmSync(mine, { force: true });
      return () => {
        if (readPid(file) === process.pid) fs.rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        fs.rmSync(mine, { force: true });
        throw error;
      }
    }
    const pid = readPid(file);
    // Stale: remove it and try again. Two runs racing here both retry link(); one wins.
    if (pid !== undefined && pid !== process.pid && isAlive(pid)) throw new LockedError(out, pid);
    fs.rmSync(file, { force: true });
  }
  fs.rmSync(mine, { force: true });
  throw new LockedError(out, readPid(file) ?? 0);
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
