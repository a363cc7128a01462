import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ArchivedFile } from '../types.js';

/** Archived files on disk: how their bytes are hashed and checked against the journal. */

/**
 * A file's size and the sha256 state of its bytes (undefined if it does not exist). A cut
 * transfer's partial file resumes from it; an archived file is checked against it. Small reads:
 * a large buffer per file, times --concurrency, only makes the garbage collector work harder.
 */
export async function hashFile(file: string): Promise<{ bytes: number; hash: Hash } | undefined> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 64 << 10 }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return { bytes, hash };
}

/** Size and sha256 both match what was recorded. */
export async function isIntact(out: string, file: ArchivedFile): Promise<boolean> {
  const target = path.join(out, file.path);
  try {
    if ((await fs.promises.stat(target)).size !== file.bytes) return false;
    const whole = await hashFile(target);
    return whole !== undefined && whole.bytes === file.bytes && whole.hash.digest('hex') === file.sha256;
  } catch {
    return false;
  }
}

/** `a/b.jpg` → `a/b~<key>.jpg`: the way out when two items would share one path. */
export function disambiguate(relPath: string, mediaKey: string): string {
  const ext = path.posix.extname(relPath);
  return `${relPath.slice(0, relPath.length - ext.length)}~${mediaKey.replace(/[^\w-]/g, '_')}${ext}`;
}
