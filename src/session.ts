import fs from 'node:fs';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { acquireLock } from './archive/lock.js';
import { Archive, STATE_DIR } from './archive/state.js';
import { UsageError } from './errors.js';
import { createDispatcher } from './net/http.js';
import { WaitBudget, type RetryContext } from './net/retry.js';

/**
 * What every command that writes to an archive holds while it works: the lock, the open
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
  timeoutMs: number;
  concurrency: number;
  retries: number;
  maxWaitMs: number;
  signal: AbortSignal;
  notice: (message: string) => void;
  sleep?: RetryContext['sleep'];
}

export function openSession(options: SessionOptions): Session {
  // Before the lock, which would create the state folder and make any folder look like an archive.
  if (options.mustExist) checkIsArchive(options.out);
  const release = lockArchive(options.out);
  let archive: Archive;
  try {
    archive = Archive.open(options.out, true);
  } catch (error) {
    release();
    throw usageErrorFor(error, options.out) ?? error;
  }
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

/** Read-only access for `export`: no lock, no writes. */
export function openArchiveForReading(out: string): Archive {
  checkIsArchive(out);
  return Archive.open(out, false);
}

function checkIsArchive(out: string): void {
  if (!fs.existsSync(path.join(out, STATE_DIR))) throw new UsageError(`${out} is not an x-media-dump archive (no ${STATE_DIR}/ in it); check --out`);
}

function lockArchive(out: string): () => void {
  try {
    return acquireLock(path.join(out, STATE_DIR), out);
  } catch (error) {
    throw usageErrorFor(error, out) ?? error;
  }
}

/** A folder we cannot use is the user's to fix (exit 2), not an unexpected error. */
function usageErrorFor(error: unknown, out: string): UsageError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EEXIST') {
    return new UsageError(`cannot use --out ${out}: ${code}; pick a folder you can write to`);
  }
  return undefined;
}
