import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ArchiveWriteError } from '../errors.js';
import { FORMAT, parseLine, type Entry } from './entries.js';
import { fsyncDir } from './fsync.js';
import { read40, write40, type MediaIndex } from './index.js';
import type { JournalFile } from './journal.js';
import type { ArchiveState } from './replay.js';
import { snapshotArchive, SNAPSHOT_FILE } from './snapshot.js';

/**
 * Rewrite the journal with only what is live: each page line keeps its marker and the items it
 * brought (so a line lost later still shows as a hole in the page numbers), then every live file,
 * then where paging stands. Streamed line by line into a temp file, fsynced, renamed over the
 * journal; then a snapshot for the new journal. A crash before the rename leaves the old journal
 * and its snapshot; after it, the old snapshot no longer matches and the next open rebuilds.
 */
export function compact(state: ArchiveState, journal: JournalFile, dir: string, snapshotFrom: number): ArchiveState {
  const temp = `${journal.path}.${process.pid}.tmp`;
  const { index } = state;
  // The new offsets, kept apart until the new journal is in place (40-bit, as in the index).
  const items = { lo: new Uint32Array(index.capacity), hi: new Uint8Array(index.capacity) };
  const files = { lo: new Uint32Array(index.capacity), hi: new Uint8Array(index.capacity) };
  const writer = new LineWriter(temp);
  const epoch = randomUUID();
  try {
    writer.line({ k: 'format', v: FORMAT, epoch });
    for (const [handle, user_id] of state.handles) writer.line({ k: 'user', handle, user_id });
    for (const [user_id, folder] of state.accounts) writer.line({ k: 'account', user_id, folder });
    const fileLines: Entry[] = [];
    for (const line of journal.lines()) {
      if (!line.complete) break;
      const kept: Entry[] = [];
      for (const entry of parseLine(line.text) ?? []) {
        if (entry.k === 'page') kept.push(entry);
        else if (entry.k === 'item' && index.itemAt(index.find(entry.item.media.media_key)) === line.offset) kept.push(entry);
        else if (entry.k === 'file' && index.fileAt(index.find(entry.file.media_key)) === line.offset) fileLines.push(entry);
      }
      if (kept.length === 0) continue;
      const offset = kept[0]?.k === 'page' ? writer.line(kept.length === 1 && kept[0] ? kept[0] : { k: 'tx', entries: kept }) : -1;
      for (const entry of kept) {
        if (entry.k !== 'item') continue;
        write40(items.lo, items.hi, index.find(entry.item.media.media_key), offset >= 0 ? offset : writer.line(entry));
      }
      // File entries are written in batches, in the order they were saved: a few hundred bytes each.
      if (fileLines.length >= 4096) flushFiles(fileLines, writer, files, index);
    }
    flushFiles(fileLines, writer, files, index);
    for (const [user_id, scan] of state.scans) writer.line({ k: 'scan', user_id, scan });
    writer.finish();
    fs.renameSync(temp, journal.path);
  } catch (error) {
    writer.abandon();
    fs.rmSync(temp, { force: true });
    throw error instanceof ArchiveWriteError ? error : new ArchiveWriteError(journal.path, error);
  }
  fsyncDir(dir);
  journal.size = writer.size;
  journal.close();
  for (const slot of index.slots()) {
    index.setItem(slot, read40(items.lo, items.hi, slot));
    index.setFile(slot, read40(files.lo, files.hi, slot));
  }
  const next: ArchiveState = { ...state, epoch, cursor: 0, entries: writer.entries };
  try {
    if (journal.size >= snapshotFrom) snapshotArchive(dir, next, journal);
    // The old snapshot matches nothing now: a small journal is simply replayed.
    else fs.rmSync(path.join(dir, SNAPSHOT_FILE), { force: true });
  } catch {
    // Only a cache: the old snapshot no longer matches, so the next open replays the new journal.
  }
  return next;
}

function flushFiles(pending: Entry[], writer: LineWriter, files: { lo: Uint32Array; hi: Uint8Array }, index: MediaIndex): void {
  for (const entry of pending.splice(0)) if (entry.k === 'file') write40(files.lo, files.hi, index.find(entry.file.media_key), writer.line(entry));
}

/** Buffered lines into the temp journal; each returns the offset its line starts at. */
class LineWriter {
  private readonly fd: number;
  private buffered: string[] = [];
  private bufferedBytes = 0;
  size = 0;
  entries = 0;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'w');
  }

  line(entry: Entry): number {
    const text = `${JSON.stringify(entry)}\n`;
    const offset = this.size;
    this.size += Buffer.byteLength(text);
    this.entries += entry.k === 'tx' ? entry.entries.length : 1;
    this.buffered.push(text);
    this.bufferedBytes += text.length;
    if (this.bufferedBytes > 1 << 20) this.flush();
    return offset;
  }

  finish(): void {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }

  abandon(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // Already closed.
    }
  }

  private flush(): void {
    const bytes = Buffer.from(this.buffered.join(''));
    for (let at = 0; at < bytes.length; ) at += fs.writeSync(this.fd, bytes, at);
    this.buffered = [];
    this.bufferedBytes = 0;
  }
}
