import fs from 'node:fs';
import path from 'node:path';
import { isIntact, SafeFolders } from './archive/files.js';
import { STATE_DIR } from './archive/state.js';
import type { TransferLimits } from './config.js';
import { DownloadQueue } from './download/queue.js';
import { downloadItem, type SaveContext } from './download/save.js';
import { planItem } from './media/plan.js';
import { ExitCode } from './errors.js';
import { openSession } from './session.js';
import { MEDIA_TYPES, type ArchivedFile } from './types.js';

/**
 * `verify`: re-hash every archived file against the journal; `--repair` fetches the bad ones
 * again from the URLs the archive holds (no API request, no key).
 */

export interface VerifyOptions extends TransferLimits {
  out: string;
  repair: boolean;
  allowHosts: readonly string[];
  concurrency: number;
  signal: AbortSignal;
  notice: (message: string) => void;
  /** Told of every file once it is checked (and repaired): `verify --json`. */
  onFile?: (outcome: FileOutcome) => void;
}

/** One archived file's fate: `file` is as the archive now holds it (a repaired file's new hash). */
export interface FileOutcome {
  file: ArchivedFile;
  status: 'intact' | 'missing' | 'corrupt' | 'repaired';
  /** What a repaired file was. */
  was?: 'missing' | 'corrupt';
  /** Why a missing or corrupt file was not repaired, when a repair was tried. */
  reason?: string;
}

export interface VerifyResult {
  checked: number;
  intact: number;
  repaired: number;
  /** Files still missing or corrupt. */
  unrepaired: number;
  /** Every file that was not intact (repaired ones included), by path. */
  bad: FileOutcome[];
}

/** 0: every file intact or repaired; 1: some still missing or corrupt; 130: stopped. */
export function verifyExitCode(result: VerifyResult, interrupted: boolean): number {
  if (interrupted) return ExitCode.interrupted;
  return result.unrepaired > 0 ? ExitCode.itemsFailed : ExitCode.ok;
}

export async function verifyArchive(options: VerifyOptions): Promise<VerifyResult> {
  // Without --repair nothing is written: no lock, so a read-only archive can be checked.
  const session = openSession({ ...options, mustExist: true, readOnly: !options.repair });
  const { archive } = session;
  const queue = new DownloadQueue(options.concurrency, options.signal, options.concurrency * 2);
  const save: SaveContext = {
    archive,
    fetch: {
      dispatcher: session.dispatcher,
      allowHosts: options.allowHosts,
      timeoutMs: options.timeoutMs,
      minRate: options.minRate,
      maxFileSize: options.maxFileSize,
      retry: session.retry,
      tmpDir: archive.tmpDir,
      out: options.out,
      folders: new SafeFolders(options.out, STATE_DIR),
    },
    // Repairs go back to the path the file already has.
    nameFor: (item, ext) => `${item.media.media_key}.${ext}`,
    dryRun: false,
    onRateLimited: () => undefined,
  };
  const result: VerifyResult = { checked: 0, intact: 0, repaired: 0, unrepaired: 0, bad: [] };
  /** Each file's one outcome: counted, kept when it was not intact, and told. */
  const settle = (outcome: FileOutcome): void => {
    if (outcome.status === 'intact') result.intact += 1;
    else if (outcome.status === 'repaired') result.repaired += 1;
    else result.unrepaired += 1;
    if (outcome.status !== 'intact') result.bad.push(outcome);
    options.onFile?.(outcome);
  };
  const check = async (file: ArchivedFile): Promise<void> => {
    result.checked += 1;
    if (await isIntact(options.out, file)) return settle({ file, status: 'intact' });
    const problem = fs.existsSync(path.join(options.out, file.path)) ? 'corrupt' : 'missing';
    const item = archive.itemOf(file.media_key);
    if (!options.repair || !item) return settle({ file, status: problem });
    const plan = planItem(item, { types: new Set(MEDIA_TYPES), includeReposts: true, allowHosts: options.allowHosts });
    if (plan.kind === 'skip') return settle({ file, status: problem, reason: plan.reason });
    const record = await downloadItem(plan, save, file.path);
    if (record.status !== 'downloaded') return settle({ file, status: problem, ...(record.reason ? { reason: record.reason } : {}) });
    settle({ file: { ...file, bytes: record.bytes ?? file.bytes, sha256: record.sha256 ?? file.sha256 }, status: 'repaired', was: problem });
  };

  try {
    for (const file of archive.files()) {
      await queue.room();
      if (options.signal.aborted) break;
      queue.schedule(file.bytes, () => check(file));
    }
    await queue.drain();
  } finally {
    await session.close();
  }
  result.bad.sort((a, b) => a.file.path.localeCompare(b.file.path));
  return result;
}
