import fs from 'node:fs';
import path from 'node:path';
import { disambiguate } from '../media/filename.js';
import type { ArchivedFile, MediaItem, ScanState } from '../types.js';

/**
 * The archive's memory, in `<out>/.x-media-dump/`: an append-only JSONL journal of what was
 * discovered, what is on disk and where paging stands. Every change is one appended line,
 * written before the run moves on, so a crash or `kill -9` at any instant leaves a journal
 * whose every complete line is true. A torn last line is dropped on the next open, and each
 * open rewrites the journal compacted (temp file, fsync, rename), so it never grows without bound.
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
  | { k: 'user'; handle: string; user_id: string };

export class Archive {
  readonly items = new Map<string, MediaItem>();
  readonly files = new Map<string, ArchivedFile>();
  readonly scans = new Map<string, ScanState>();
  readonly handles = new Map<string, string>();
  private readonly pathOwners = new Map<string, string>();
  private fd: number | undefined;
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
    const lines = text.split('\n');
    // The last element is '' after a complete line, or a torn write after a crash.
    if (lines.at(-1) !== '') archive.droppedLines++;
    for (const line of lines.slice(0, -1)) {
      try {
        archive.apply(JSON.parse(line) as Entry);
      } catch {
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

  pending(): MediaItem[] {
    return [...this.items.values()].filter((item) => !this.files.has(item.media.media_key));
  }

  /** Journal newly discovered items in one write, before any of them is downloaded. */
  discover(items: readonly MediaItem[]): void {
    const fresh = items.filter((item) => !this.items.has(item.media.media_key));
    this.append(fresh.map((item): Entry => ({ k: 'item', item })));
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
    this.append([{ k: 'scan', user_id: userId, scan }]);
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
    if (this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private append(entries: Entry[]): void {
    if (entries.length === 0) return;
    for (const entry of entries) this.apply(entry);
    this.fd ??= fs.openSync(path.join(this.dir, JOURNAL), 'a');
    fs.writeSync(this.fd, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }

  private apply(entry: Entry): void {
    switch (entry.k) {
      case 'format':
        if (entry.v > FORMAT) throw new Error(`archive format ${entry.v} is newer than this x-media-dump understands`);
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
    const fd = fs.openSync(temp, 'w');
    try {
      fs.writeSync(fd, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, target);
    fsyncDir(this.dir);
  }
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
