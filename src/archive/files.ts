import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UnsafePathError } from '../errors.js';
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

/*
 * Writing inside --out safely. Nothing is ever written through a symbolic link, or anywhere
 * whose real path is outside the real --out: another user of a shared folder, or an archive
 * copied from elsewhere, may have planted links where the tool is about to write.
 */

/** Exclusive create, never through a symbolic link: a planted link or file makes it fail. */
const CREATE_EXCLUSIVE = fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0);

/**
 * A new, empty file at `file`, opened for reading and writing. Whatever was at that name (a file
 * a killed run left, or a planted link) is unlinked first; unlinking a link never touches what it
 * points to. Should something appear again in between, the create fails rather than follow it.
 */
export async function createExclusive(file: string): Promise<fs.promises.FileHandle> {
  await fs.promises.rm(file, { force: true });
  return fs.promises.open(file, CREATE_EXCLUSIVE, 0o644);
}

/** The open file is still the one at `file` (nobody swapped the name for a link or another file). */
export async function isSameFile(handle: fs.promises.FileHandle, file: string): Promise<boolean> {
  const [open, named] = await Promise.all([handle.stat(), fs.promises.lstat(file).catch(() => undefined)]);
  return named !== undefined && named.isFile() && named.ino === open.ino && named.dev === open.dev;
}

/** Size and sha256 state of an open file's bytes, read through its descriptor (never by name). */
export async function hashHandle(handle: fs.promises.FileHandle): Promise<{ bytes: number; hash: Hash }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, bytes);
    if (bytesRead === 0) return { bytes, hash };
    hash.update(buffer.subarray(0, bytesRead));
    bytes += bytesRead;
  }
}

/** The first `length` bytes of an open file (fewer if it is shorter). */
export async function readHead(handle: fs.promises.FileHandle, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, 0);
  return buffer.subarray(0, bytesRead);
}

/**
 * The absolute path to write `relPath` (a `/`-separated path relative to --out) at, after making
 * its folders one at a time: each must be a real folder (a symbolic link is refused, not
 * followed), and the last one's real path must lie inside the real --out. `stateDir` (the
 * archive's own folder) is never a media folder. Throws UnsafePathError.
 */
export async function prepareTarget(out: string, relPath: string, stateDir: string): Promise<string> {
  const parts = relPath.split('/');
  const name = parts.pop() ?? '';
  if (name === '' || parts.some((part) => part === '' || part === '.' || part === '..') || name === '.' || name === '..') {
    throw new UnsafePathError(`refusing to write ${relPath}: not a plain path inside --out`);
  }
  if ((parts[0] ?? name).toLowerCase() === stateDir.toLowerCase()) throw new UnsafePathError(`refusing to write ${relPath}: that is the archive's state folder`);
  const realOut = await fs.promises.realpath(out);
  let dir = realOut;
  for (const part of parts) {
    dir = path.join(dir, part);
    await fs.promises.mkdir(dir).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    });
    const stat = await fs.promises.lstat(dir);
    if (stat.isSymbolicLink()) throw new UnsafePathError(`refusing to write ${relPath}: ${path.relative(realOut, dir)} is a symbolic link, which is never followed`);
    if (!stat.isDirectory()) throw new UnsafePathError(`refusing to write ${relPath}: ${path.relative(realOut, dir)} is not a folder`);
  }
  const real = await fs.promises.realpath(dir);
  if (real !== realOut && !real.startsWith(realOut + path.sep)) throw new UnsafePathError(`refusing to write ${relPath}: its folder is outside --out`);
  return path.join(real, name);
}

/** `dir` is a real folder (not a link) whose real path lies inside the real `out`. */
export async function isFolderInside(out: string, dir: string): Promise<boolean> {
  try {
    if (!(await fs.promises.lstat(dir)).isDirectory()) return false;
    const [realOut, real] = await Promise.all([fs.promises.realpath(out), fs.promises.realpath(dir)]);
    return real.startsWith(realOut + path.sep);
  } catch {
    return false;
  }
}

/**
 * Rename the verified temp file (`temp`, open as `handle`) into place. Across file systems (a
 * folder under --out that is another mount: EXDEV), copy it through its descriptor to a new file
 * beside the target instead, re-hashing as it goes, fsync, and rename that: the target still
 * appears whole or not at all.
 */
export async function moveIntoPlace(handle: fs.promises.FileHandle, temp: string, target: string, sha256: string): Promise<void> {
  try {
    await fs.promises.rename(temp, target);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
  }
  const beside = path.join(path.dirname(target), `.${path.basename(target)}.x-media-dump-${process.pid}.part`);
  const copy = await createExclusive(beside);
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let at = 0; ; ) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      for (let done = 0; done < bytesRead; ) done += (await copy.write(chunk, done, bytesRead - done, at + done)).bytesWritten;
      at += bytesRead;
    }
    if (hash.digest('hex') !== sha256) throw new Error(`the copy to ${target} does not match what was downloaded`);
    await copy.sync();
    await copy.close();
    await fs.promises.rename(beside, target);
  } catch (error) {
    await copy.close().catch(() => undefined);
    await fs.promises.rm(beside, { force: true });
    throw error;
  }
  await fs.promises.rm(temp, { force: true });
}
