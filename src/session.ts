import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { acquireLock } from './archive/lock.js';
import { Archive, STATE_DIR } from './archive/state.js';
import { UsageError } from './errors.js';
import { createDispatcher } from './net/http.js';
import { WaitBudget, type RetryContext } from './net/retry.js';

/**
 * What every command that works on an archive holds while it works: the lock, the open
 * archive, the connection pool and the retry context (with the run's --max-wait budget).
 * `close()` journals what is staged, releases the lock and closes the pool, in that order.
 */
export interface Session {
  archive: Archive;
  dispatcher: Dispatcher;
  retry: RetryContext;
  close(): Promise<void>;
}

export interface SessionOptions {
  out: string;
  /** An existing archive only (export, verify): a folder without one is a usage error. */
  mustExist: boolean;
  /** Nothing will be written (verify without --repair): no lock, and a read-only archive works. */
  readOnly?: boolean;
  timeoutMs: number;
  concurrency: number;
  retries: number;
  maxWaitMs: number;
  signal: AbortSignal;
  notice: (message: string) => void;
  sleep?: RetryContext['sleep'];
}

export function openSession(options: SessionOptions): Session {
  const { out } = options;
  checkStateFolder(out);
  // Before the lock, which would create the state folder and make any folder look like an archive.
  if (options.mustExist) checkIsArchive(out);
  const release = options.readOnly ? () => undefined : lockArchive(out);
  let archive: Archive;
  try {
    archive = Archive.open(out, options.readOnly !== true);
  } catch (error) {
    release();
    throw usageErrorFor(error, out) ?? error;
  }
  // Every request and every retry wait listens on the run's signal while it lasts: one per
  // download slot at most, and the pager's. Node warns past 10 listeners on one signal, a leak
  // heuristic that --concurrency above 10 trips by design; the bound is raised to what is expected.
  setMaxListeners(options.concurrency + 10, options.signal);
  const dispatcher = createDispatcher(options.timeoutMs, options.concurrency);
  const retry: RetryContext = {
    retries: options.retries,
    budget: new WaitBudget(options.maxWaitMs),
    signal: options.signal,
    notice: options.notice,
    ...(options.sleep ? { sleep: options.sleep } : {}),
  };
  return {
    archive,
    dispatcher,
    retry,
    close: async () => {
      try {
        archive.close();
      } finally {
        release();
        await dispatcher.close().catch(() => undefined);
      }
    },
  };
}

/**
 * Read-only access for `export` and `view`: no lock, no writes. Lines of the journal that cannot be
 * read are told to `onDamage` (how many), for the caller to say what they leave out.
 */
export function openArchiveForReading(out: string, onDamage?: (unreadable: number) => void): Archive {
  checkStateFolder(out);
  checkIsArchive(out);
  const archive = Archive.open(out, false);
  if (archive.report.unreadable.length + archive.report.holes.length > 0) onDamage?.(archive.report.unreadable.length);
  return archive;
}

function checkIsArchive(out: string): void {
  if (!fs.existsSync(path.join(out, STATE_DIR))) throw new UsageError(`${out} is not an x-media-dump archive (no ${STATE_DIR}/ in it); check --out`);
}

/**
 * --out, if it exists, is a folder; the state folder, if it exists, is a real folder in it. A
 * link there would have the run write, and clear temp files, wherever it points.
 */
function checkStateFolder(out: string): void {
  const outStat = statOf(() => fs.statSync(out), out);
  if (outStat === undefined) return;
  if (!outStat.isDirectory()) throw new UsageError(`--out ${out} is not a folder; pick another --out`);
  const state = path.join(out, STATE_DIR);
  const stateStat = statOf(() => fs.lstatSync(state), out);
  if (stateStat === undefined) return;
  if (stateStat.isSymbolicLink()) {
    throw new UsageError(`${state} is a symbolic link; the state folder must be a real folder inside --out (remove the link, or point --out at the real archive)`);
  }
  if (!stateStat.isDirectory()) throw new UsageError(`${state} is not a folder; move it out of the way (x-media-dump keeps its state there)`);
}

/** A path's stats; undefined when it does not exist. */
function statOf(stat: () => fs.Stats, out: string): fs.Stats | undefined {
  try {
    return stat();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw usageErrorFor(error, out) ?? error;
  }
}

function lockArchive(out: string): () => void {
  const state = path.join(out, STATE_DIR);
  try {
    makeFolder(out);
    makeFolder(state);
    return acquireLock(state, out);
  } catch (error) {
    throw usageErrorFor(error, out) ?? error;
  }
}

/**
 * mkdir -p, one level at a time: a recursive mkdir under a read-only mount reports ENOENT,
 * where this reports EROFS on the folder it could not make.
 */
function makeFolder(dir: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || path.dirname(dir) === dir) throw error;
    makeFolder(path.dirname(dir));
    makeFolder(dir);
  }
}

const FOLDER_PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'a folder where a file was expected',
  EEXIST: 'already exists',
  ELOOP: 'a symbolic link where none is followed',
  ENAMETOOLONG: 'name too long',
};

/** A folder we cannot use is the user's to fix (exit 2), not an unexpected error: name the path. */
function usageErrorFor(error: unknown, out: string): UsageError | undefined {
  const { code, path: where } = (error ?? {}) as NodeJS.ErrnoException;
  const problem = code === undefined ? undefined : FOLDER_PROBLEMS[code];
  if (problem === undefined) return undefined;
  return new UsageError(`cannot use --out ${out}: ${where ?? out}: ${code} (${problem}); pick a folder you can write to`);
}
