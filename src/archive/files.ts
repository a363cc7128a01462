import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { UnsafePathError } from '../errors.js';
import type { ArchivedFile } from '../types.js';

/** Archived files on disk: how their bytes are hashed and checked against the journal. */

const openAsync = promisify(fs.open);
const readAsync = promisify(fs.read);
const fstatAsync = promisify(fs.fstat);
const writeAsync = promisify(fs.write);
export const fsyncAsync = promisify(fs.fsync);

/** Size and sha256 both match what was recorded (read through one descriptor: see hashHandle). */
export async function isIntact(out: string, file: ArchivedFile): Promise<boolean> {
  let fd: number;
  try {
    fd = await openAsync(path.join(out, file.path), fs.constants.O_RDONLY);
  } catch {
    return false;
  }
  try {
    // The size from fstat, so a swap between stat and read cannot mislead.
    if ((await fstatAsync(fd)).size !== file.bytes) return false;
    const { bytes, hash } = await hashHandle(fd);
    return bytes === file.bytes && hash.digest('hex') === file.sha256;
  } catch {
    return false;
  } finally {
    fs.close(fd, () => undefined);
  }
}

const READ_BUFFER_BYTES = 64 << 10;
/** Free read buffers; at most one per file being read is ever out at once. */
const readBuffers: Buffer[] = [];

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
 * A new, empty file at `file`, opened for reading and writing. Whatever is found at that name (a
 * file a killed run left, or a planted link) is unlinked and the create tried once more;
 * unlinking a link never touches what it points to, and the create never follows one.
 */
/*
 * The temp file is a plain descriptor, and its quick calls (stat, truncate, close) are
 * synchronous: each takes microseconds, where going through the thread pool would cost two
 * hand-offs apiece, per file (bench/README.md, first-run throughput). Creating, renaming,
 * reading and fsync wait on the file system's journal, which other files' fsyncs hold: those
 * stay asynchronous.
 */

export async function createExclusive(file: string): Promise<number> {
  try {
    return await openAsync(file, CREATE_EXCLUSIVE, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  fs.rmSync(file, { force: true });
  return openAsync(file, CREATE_EXCLUSIVE, 0o644);
}

/** The open file is still the one at `file` (nobody swapped the name for a link or another file). */
export function isSameFile(fd: number, file: string): boolean {
  const open = fs.fstatSync(fd);
  const named = fs.lstatSync(file, { throwIfNoEntry: false });
  return named !== undefined && named.isFile() && named.ino === open.ino && named.dev === open.dev;
}

/**
 * Size and sha256 state of an open file's bytes, read through its descriptor (never by name), in
 * small reads into buffers reused across files: `verify` checks a million files, and a stream or a
 * large buffer per file, times --concurrency, is garbage that grows the heap (bench/README.md,
 * verify RSS). `onChunk` sees each chunk, at its offset, before the next read.
 */
export async function hashHandle(fd: number, onChunk?: (chunk: Buffer, at: number) => Promise<void>): Promise<{ bytes: number; hash: Hash }> {
  const buffer = readBuffers.pop() ?? Buffer.allocUnsafe(READ_BUFFER_BYTES);
  try {
    const hash = createHash('sha256');
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await readAsync(fd, buffer, 0, buffer.length, bytes);
      if (bytesRead === 0) return { bytes, hash };
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      await onChunk?.(chunk, bytes);
      bytes += bytesRead;
    }
  } finally {
    readBuffers.push(buffer);
  }
}

/** The first `length` bytes of an open file (fewer if it is shorter). */
export function readHead(fd: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const bytesRead = fs.readSync(fd, buffer, 0, length, 0);
  return buffer.subarray(0, bytesRead);
}

/**
 * Where files may be written inside --out, checked once per folder per run: each folder on a
 * file's path is made one level at a time and must be a real folder (a symbolic link is refused,
 * not followed), and its real path must lie inside the real --out. `stateDir` (the archive's own
 * folder) is never a media folder. Throws UnsafePathError. A folder swapped for a link after it
 * was checked is the same race a check just before each write would have; see README.md.
 */
export class SafeFolders {
  private realOut: Promise<string> | undefined;
  private readonly checked = new Map<string, Promise<string>>();
  private readonly inside = new Map<string, Promise<boolean>>();

  constructor(
    readonly out: string,
    private readonly stateDir: string,
  ) {}

  /** The absolute path to write `relPath` (`/`-separated, relative to --out) at. */
  async target(relPath: string): Promise<string> {
    const parts = relPath.split('/');
    const name = parts.pop() ?? '';
    if (name === '' || parts.some((part) => part === '' || part === '.' || part === '..') || name === '.' || name === '..') {
      throw new UnsafePathError(`refusing to write ${relPath}: not a plain path inside --out`);
    }
    if ((parts[0] ?? name).toLowerCase() === this.stateDir.toLowerCase()) throw new UnsafePathError(`refusing to write ${relPath}: that is the archive's state folder`);
    try {
      return path.join(await this.folder(parts), name);
    } catch (error) {
      // The folder's check is shared by every file in it: each says which file it refused.
      if (error instanceof UnsafePathError) throw new UnsafePathError(`refusing to write ${relPath}: ${error.message}`);
      throw error;
    }
  }

  /** `dir` (absolute) is a real folder whose real path lies inside the real --out (asked once per run). */
  isInside(dir: string): Promise<boolean> {
    let known = this.inside.get(dir);
    if (known === undefined) {
      known = (async () => {
        if (!(await fs.promises.lstat(dir)).isDirectory()) return false;
        const [realOut, real] = await Promise.all([this.root(), fs.promises.realpath(dir)]);
        return real.startsWith(realOut + path.sep);
      })().catch(() => false);
      this.inside.set(dir, known);
    }
    return known;
  }

  private root(): Promise<string> {
    this.realOut ??= fs.promises.realpath(this.out);
    return this.realOut;
  }

  /** The real path of the folder `parts` names, made and checked the first time it is asked for. */
  private folder(parts: readonly string[]): Promise<string> {
    if (parts.length === 0) return this.root();
    const key = parts.join('/');
    let known = this.checked.get(key);
    if (known === undefined) {
      known = this.check(parts);
      this.checked.set(key, known);
      // A failure is not remembered: the next file tries again (and says why again).
      known.catch(() => this.checked.delete(key));
    }
    return known;
  }

  private async check(parts: readonly string[]): Promise<string> {
    const parent = await this.folder(parts.slice(0, -1));
    const realOut = await this.root();
    const dir = path.join(parent, parts[parts.length - 1] ?? '');
    await fs.promises.mkdir(dir).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    });
    const stat = await fs.promises.lstat(dir);
    if (stat.isSymbolicLink()) throw new UnsafePathError(`${path.relative(realOut, dir)} is a symbolic link, which is never followed`);
    if (!stat.isDirectory()) throw new UnsafePathError(`${path.relative(realOut, dir)} is not a folder`);
    const real = await fs.promises.realpath(dir);
    if (!real.startsWith(realOut + path.sep)) throw new UnsafePathError('its folder is outside --out');
    return real;
  }
}

/**
 * Rename the verified temp file (`temp`, open as `handle`) into place. Across file systems (a
 * folder under --out that is another mount: EXDEV), copy it through its descriptor to a new file
 * beside the target instead, re-hashing as it goes, with its dates, fsync, and rename that: the target still
 * appears whole or not at all.
 */
export async function moveIntoPlace(fd: number, temp: string, target: string, sha256: string): Promise<void> {
  try {
    await fs.promises.rename(temp, target);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
  }
  const beside = path.join(path.dirname(target), `.${path.basename(target)}.x-media-dump-${process.pid}.part`);
  const copy = await createExclusive(beside);
  let open = true;
  try {
    const { hash } = await hashHandle(fd, async (chunk, at) => {
      for (let done = 0; done < chunk.length; ) done += (await writeAsync(copy, chunk, done, chunk.length - done, at + done)).bytesWritten;
    });
    if (hash.digest('hex') !== sha256) throw new Error(`the copy to ${target} does not match what was downloaded`);
    const { atime, mtime } = fs.fstatSync(fd);
    fs.futimesSync(copy, atime, mtime);
    await fsyncAsync(copy);
    fs.closeSync(copy);
    open = false;
    fs.renameSync(beside, target);
  } catch (error) {
    if (open) fs.closeSync(copy);
    fs.rmSync(beside, { force: true });
    throw error;
  }
  await fs.promises.rm(temp, { force: true });
}
