import fs from 'node:fs';
import path from 'node:path';
import { acquireLock } from './archive/lock.js';
import { Archive, STATE_DIR } from './archive/state.js';
import { UsageError } from './errors.js';
import { planItem } from './media/plan.js';
import { createDispatcher } from './net/http.js';
import { WaitBudget } from './net/retry.js';
import { toRecord } from './output/records.js';
import { isIntact, Saver } from './queue.js';
import { MEDIA_TYPES, type ItemRecord } from './types.js';

/**
 * The two commands that need no API key: `export` (the archive as NDJSON) and `verify`
 * (re-hash every file; `--repair` fetches the bad ones again from the URLs the archive holds).
 */

function checkIsArchive(out: string): void {
  if (!fs.existsSync(path.join(out, STATE_DIR))) throw new UsageError(`${out} is not an x-media-dump archive (no ${STATE_DIR}/ in it); check --out`);
}

function openExisting(out: string, writable: boolean): Archive {
  checkIsArchive(out);
  return Archive.open(out, writable);
}

/** Every media item the archive knows: `exists` with its file, or `planned` when not yet saved. */
export function exportRecords(out: string): ItemRecord[] {
  const archive = openExisting(out, false);
  return [...archive.items.values()].map((item) => {
    const file = archive.files.get(item.media.media_key);
    return file ? toRecord(item, 'exists', { file }) : toRecord(item, 'planned', { reason: 'not downloaded yet' });
  });
}

export interface VerifyOptions {
  out: string;
  repair: boolean;
  allowHosts: readonly string[];
  concurrency: number;
  retries: number;
  timeoutMs: number;
  signal: AbortSignal;
  notice: (message: string) => void;
}

export interface VerifyResult {
  checked: number;
  ok: number;
  bad: { path: string; problem: 'missing' | 'corrupt'; repaired: boolean; reason?: string }[];
}

export async function verifyArchive(options: VerifyOptions): Promise<VerifyResult> {
  // Before the lock, which would create the state folder and make any folder look like an archive.
  checkIsArchive(options.out);
  const release = acquireLock(path.join(options.out, STATE_DIR), options.out);
  const archive = (() => {
    try {
      return openExisting(options.out, true);
    } catch (error) {
      release();
      throw error;
    }
  })();
  const dispatcher = createDispatcher(options.timeoutMs, options.concurrency);
  const retry = { retries: options.retries, budget: new WaitBudget(600_000), signal: options.signal, notice: options.notice };
  const saver = new Saver(archive, { out: options.out, filename: '{media_key}.{ext}', concurrency: options.concurrency }, {
    dispatcher,
    allowHosts: options.allowHosts,
    timeoutMs: options.timeoutMs,
    retry,
    tmpDir: archive.tmpDir,
    out: options.out,
  });
  const result: VerifyResult = { checked: 0, ok: 0, bad: [] };
  try {
    for (const file of [...archive.files.values()]) {
      saver.schedule(file.bytes, async () => {
        result.checked += 1;
        if (await isIntact(options.out, file)) {
          result.ok += 1;
          return;
        }
        const problem = fs.existsSync(path.join(options.out, file.path)) ? 'corrupt' : 'missing';
        const item = archive.items.get(file.media_key);
        if (!options.repair || !item) {
          result.bad.push({ path: file.path, problem, repaired: false });
          return;
        }
        const plan = planItem(item, { types: new Set(MEDIA_TYPES), includeReposts: true, allowHosts: options.allowHosts });
        if (plan.kind === 'skip') {
          result.bad.push({ path: file.path, problem, repaired: false, reason: plan.reason });
          return;
        }
        const record = await saver.save(plan);
        result.bad.push({ path: file.path, problem, repaired: record.status === 'downloaded', ...(record.reason ? { reason: record.reason } : {}) });
      });
    }
    await saver.drain();
  } finally {
    archive.close();
    release();
    await dispatcher.close().catch(() => undefined);
  }
  result.bad.sort((a, b) => a.path.localeCompare(b.path));
  return result;
}
