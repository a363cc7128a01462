import fs from 'node:fs';
import path from 'node:path';
import { ArchiveWriteError, UsageError } from '../errors.js';
import { disambiguate } from './files.js';
import type { ArchivedFile, MediaItem, ScanState } from '../types.js';

/**
 * The archive's memory, in `<out>/.x-media-dump/`: an append-only JSONL journal of what was
 * discovered, what is on disk and where paging stands. Every change is one line, written in one
 * write() before the run moves on; changes that must land together (a page's media and the
 * progress past it) share a line. So a crash or `kill -9` at any instant leaves a journal whose
 * every complete line is true and whose torn last line, if any, is all of one change: it is
 * dropped on the next open. Each writable open rewrites the journal compacted (temp file, fsync,
 * rename), so it never grows without bound.
 */

export const STATE_DIR = '.x-media-dump';
const JOURNAL = 'journal.jsonl';
const FORMAT = 1;

type Entry =
  | { k: 'format'; v: number }
  | { k: 'item'; item: MediaItem }
  | { k: 'file'; file: ArchivedFile }
  | { k: 'unfile'; media_key: string }
  | { k: 'scan'; user_id: string; scan: ScanState }
  | { k: 'user'; handle: string; user_id: string }
  | { k: 'tx'; entries: Entry[] };

export class Archive {
  readonly items = new Map<string, MediaItem>();
  readonly files = new Map<string, ArchivedFile>();
  readonly scans = new Map<string, ScanState>();
  readonly handles = new Map<string, string>();
  private readonly pathOwners = new Map<string, string>();
  private fd: number | undefined;
  /** Discovered items waiting to share a line with the next change (see `discover`). */
  private staged: Entry[] = [];
  /** Lines the last open could not read (torn or corrupt): dropped, and said in the summary. */
  droppedLines = 0;

  private constructor(
    readonly out: string,
    readonly dir: string,
  ) {}

  get tmpDir(): string {
    return path.join(this.dir, 'tmp');
  }

  /**
   * Read the journal; with `writable`, also compact it and clear temp files a killed run left.
   * Call with `writable` only while holding the lock.
   */
  static open(out: string, writable: boolean): Archive {
    const archive = new Archive(out, path.join(out, STATE_DIR));
    const journal = path.join(archive.dir, JOURNAL);
    let text = '';
    try {
      text = fs.readFileSync(journal, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // After a complete line the last element is ''; after a torn write, what part of it landed.
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        archive.apply(JSON.parse(line) as Entry);
      } catch (error) {
        if (error instanceof UsageError) throw error;
        archive.droppedLines++;
      }
    }
    if (writable) {
      fs.mkdirSync(archive.dir, { recursive: true });
      fs.rmSync(archive.tmpDir, { recursive: true, force: true });
      for (const name of fs.readdirSync(archive.dir)) {
        if (name.startsWith(`${JOURNAL}.`) && name.endsWith('.tmp')) fs.rmSync(path.join(archive.dir, name), { force: true });
      }
      fs.mkdirSync(archive.tmpDir, { recursive: true });
      archive.compact();
    }
    return archive;
  }

  /** Items with no file yet, or with one saved from a fallback size that a new try may better. */
  pending(): MediaItem[] {
    return [...this.items.values()].filter((item) => {
      const file = this.files.get(item.media.media_key);
      return file === undefined || file.upgradable === true;
    });
  }

  /**
   * Newly discovered items: known at once, and written in the same line as the next change
   * (the page's scan progress, which the pager saves before any download can start), so a kill
   * between the two cannot keep the progress and lose the media. `close()` writes them too.
   */
  discover(items: readonly MediaItem[]): void {
    const fresh = items.filter((item) => !this.items.has(item.media.media_key));
    for (const item of fresh) {
      const entry: Entry = { k: 'item', item };
      this.apply(entry);
      this.staged.push(entry);
    }
  }

  /** A page's media and the paging progress past it, in one line: a crash keeps both or neither. */
  recordPage(userId: string, items: readonly MediaItem[], scan: ScanState): void {
    this.discover(items);
    this.saveScan(userId, scan);
  }

  /** Journal a file that was verified and renamed into place. */
  recordFile(file: ArchivedFile): void {
    this.append([{ k: 'file', file }]);
  }

  /** Forget a file that is gone or damaged, so the next run fetches it again. */
  forgetFile(mediaKey: string): void {
    if (this.files.has(mediaKey)) this.append([{ k: 'unfile', media_key: mediaKey }]);
  }

  saveScan(userId: string, scan: ScanState): void {
    // A copy: the pager keeps changing its object, the archive must hold what was written.
    this.append([{ k: 'scan', user_id: userId, scan: structuredClone(scan) }]);
  }

  rememberHandle(handle: string, userId: string): void {
    this.append([{ k: 'user', handle, user_id: userId }]);
  }

  scanOf(userId: string): ScanState {
    const scan = this.scans.get(userId);
    return scan ? structuredClone(scan) : { gaps: [], complete: false, pages: 0 };
  }

  /**
   * The path this item's file goes to: the one it already has, or `wanted` unless another item
   * owns it (then a `~<media_key>` suffix makes it unique). Two items never share a path.
   */
  pathFor(mediaKey: string, wanted: string): string {
    const known = this.files.get(mediaKey)?.path;
    if (known !== undefined && known === wanted) return known;
    const owner = this.pathOwners.get(wanted.toLowerCase());
    const chosen = owner === undefined || owner === mediaKey ? wanted : disambiguate(wanted, mediaKey);
    this.pathOwners.set(chosen.toLowerCase(), mediaKey);
    return chosen;
  }

  close(): void {
    try {
      this.append([]);
    } catch {
      // Items still staged are only ever written with their page's progress or alone: losing
      // them with it means the next run asks for that page again, nothing worse.
    } finally {
      if (this.fd !== undefined) fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }

  /**
   * Write as one line, then apply: the change lands whole or not at all. A write that fails
   * part-way (a full disk) is cut back off, so the next line never lands glued to a torn one.
   */
  private append(entries: Entry[]): void {
    const all = [...this.staged, ...entries];
    if (all.length === 0) return;
    const line = all.length === 1 && all[0] ? all[0] : { k: 'tx', entries: all };
    const journal = path.join(this.dir, JOURNAL);
    this.fd ??= fs.openSync(journal, 'a');
    const size = fs.fstatSync(this.fd).size;
    try {
      writeAll(this.fd, `${JSON.stringify(line)}\n`);
    } catch (error) {
      try {
        fs.ftruncateSync(this.fd, size);
      } catch {
        // Could not cut it back: the torn line is dropped on the next open, as after a crash.
      }
      throw new ArchiveWriteError(journal, error);
    }
    for (const entry of entries) this.apply(entry);
    this.staged = [];
  }

  private apply(entry: Entry): void {
    switch (entry.k) {
      case 'format':
        if (entry.v > FORMAT) throw new UsageError(`${this.out} was written by a newer x-media-dump (archive format ${entry.v}); upgrade x-media-dump`);
        return;
      case 'tx':
        for (const inner of entry.entries) this.apply(inner);
        return;
      case 'item':
        this.items.set(entry.item.media.media_key, entry.item);
        return;
      case 'file': {
        const previous = this.files.get(entry.file.media_key);
        if (previous) this.pathOwners.delete(previous.path.toLowerCase());
        this.files.set(entry.file.media_key, entry.file);
        this.pathOwners.set(entry.file.path.toLowerCase(), entry.file.media_key);
        return;
      }
      case 'unfile':
        this.files.delete(entry.media_key);
        return;
      case 'scan':
        this.scans.set(entry.user_id, entry.scan);
        return;
      case 'user':
        this.handles.set(entry.handle, entry.user_id);
        return;
    }
  }

  /** Rewrite the journal as one line per fact: temp file, fsync, rename, fsync the folder. */
  private compact(): void {
    this.close();
    const entries: Entry[] = [
      { k: 'format', v: FORMAT },
      ...[...this.handles].map(([handle, user_id]): Entry => ({ k: 'user', handle, user_id })),
      ...[...this.scans].map(([user_id, scan]): Entry => ({ k: 'scan', user_id, scan })),
      ...[...this.items.values()].map((item): Entry => ({ k: 'item', item })),
      ...[...this.files.values()].map((file): Entry => ({ k: 'file', file })),
    ];
    const target = path.join(this.dir, JOURNAL);
    const temp = `${target}.${process.pid}.tmp`;
    try {
      const fd = fs.openSync(temp, 'w');
      try {
        writeAll(fd, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, target);
    } catch (error) {
      // The journal as it was is untouched: only the compacted copy could not be made.
      fs.rmSync(temp, { force: true });
      throw new ArchiveWriteError(target, error);
    }
    fsyncDir(this.dir);
  }
}

/** fs.writeSync may write less than asked (a full disk, a signal): loop until all is out. */
function writeAll(fd: number, text: string): void {
  const buffer = Buffer.from(text);
  for (let at = 0; at < buffer.length; ) at += fs.writeSync(fd, buffer, at);
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
