import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ArchivedFile, MediaItem, ScanState } from '../types.js';
import { compact } from './compact.js';
import { FORMAT, type Entry } from './entries.js';
import { disambiguate } from './files.js';
import { HANDLED, HAS_FILE, MediaIndex } from './index.js';
import { PathTable } from './paths.js';
import { ArchiveReader, STATE_DIR } from './reader.js';
import { Applier, type ArchiveState, type Hole } from './replay.js';
import { snapshotArchive } from './snapshot.js';

/**
 * The archive's memory, in `<out>/.x-media-dump/`: an append-only journal of JSON lines (what
 * was discovered, what is on disk, where paging stands), the tweets of every page, and a snapshot
 * of the index over the journal. Every change is one line written in one write() before the run
 * moves on, so a crash leaves a journal whose every whole line is true. Opening reads the
 * snapshot and replays only the journal after it; nothing is rewritten unless the journal's dead
 * entries outweigh the live ones. README.md ("Where state lives") gives the crash-safety argument.
 */

export { STATE_DIR };
/** The snapshot is rewritten once the journal past it is this long (an idle run adds ~1 KB). */
const SNAPSHOT_TAIL_BYTES = 4 << 20;
/** Below this a journal replays in milliseconds: no snapshot is worth a file. */
const SNAPSHOT_FROM_BYTES = 1 << 20;
/** Archived files have their size checked over this many runs, all of them once in that span. */
const CHECK_ROUNDS = 30;
const MIN_CHECKS = 500;

/** One fetched page, as the run journals it. */
export interface PageRecord {
  userId: string;
  seq: number;
  newest: string | undefined;
  /** The response body as the API sent it. */
  body: string;
  items: readonly MediaItem[];
  scan: ScanState;
}

/** An archive open for writing, while the run holds its lock (reading comes from ArchiveReader). */
export class Archive extends ArchiveReader {
  private snapshotFrom = SNAPSHOT_FROM_BYTES;
  /** Opened with the lock held: only then may it write (a reader never touches the files). */
  private writable = false;
  private compactOnClose = false;
  /** Paths handed out this run whose files are not journaled yet. */
  private readonly claims = new Map<string, number>();

  /** Read the snapshot and the journal after it; with `writable` (lock held), also tidy up. */
  /** `snapshotFrom`: the journal size from which a snapshot is kept (tests lower it). */
  static open(out: string, writable: boolean, snapshotFrom = SNAPSHOT_FROM_BYTES): Archive {
    const dir = path.join(out, STATE_DIR);
    const archive = new Archive(out, dir, emptyState());
    archive.snapshotFrom = snapshotFrom;
    archive.writable = writable;
    archive.load();
    if (writable) archive.prepareForWriting();
    return archive;
  }

  /** Whether this run has handled the item already (`markHandled`). */
  isHandled(mediaKey: string): boolean {
    const slot = this.state.index.find(mediaKey);
    return slot >= 0 && (this.state.index.flags(slot) & HANDLED) !== 0;
  }

  markHandled(mediaKey: string): void {
    this.state.index.setFlags(this.state.index.slot(mediaKey), HANDLED);
  }

  // ── changes: each one line in the journal ─────────────────────────────────────────────────

  /** A page: its tweets to the store first, then its marker, new items and progress in one line. */
  recordPage(page: PageRecord, recovered = false): void {
    const tweets = this.tweets.append({ user_id: page.userId, seq: page.seq, body: page.body });
    const fresh = new Map<string, MediaItem>();
    for (const item of page.items) if (!this.hasItem(item.media.media_key)) fresh.set(item.media.media_key, item);
    this.write([
      { k: 'page', user_id: page.userId, seq: page.seq, tweets, ...(page.newest ? { newest: page.newest } : {}), ...(recovered ? { recovered: true as const } : {}) },
      ...[...fresh.values()].map((item): Entry => ({ k: 'item', item })),
      { k: 'scan', user_id: page.userId, scan: structuredClone(page.scan) },
    ]);
  }

  /** Journal a file that was verified and renamed into place. */
  recordFile(file: ArchivedFile): void {
    this.write([{ k: 'file', file }]);
    this.claims.delete(file.path.toLowerCase());
  }

  /** Forget a file that is gone or damaged, so the next run fetches it again. */
  forgetFile(mediaKey: string): void {
    const slot = this.state.index.find(mediaKey);
    if (slot >= 0 && this.state.index.flags(slot) & HAS_FILE) this.write([{ k: 'unfile', media_key: mediaKey }]);
  }

  /**
   * Pages lost with no stored tweets: their numbers are taken (so the hole is not found again)
   * and a gap from page 1 down to the page after the hole is added to the user's paging.
   */
  repage(hole: Hole): void {
    const scan = this.scanOf(hole.user_id);
    scan.gaps.unshift({ token: '', fromStart: true, ...(hole.floor ? { floor: hole.floor } : {}) });
    const markers = Array.from({ length: hole.to - hole.from + 1 }, (_, i): Entry => ({ k: 'page', user_id: hole.user_id, seq: hole.from + i, recovered: true }));
    this.write([...markers, { k: 'scan', user_id: hole.user_id, scan }]);
  }

  saveScan(userId: string, scan: ScanState): void {
    this.write([{ k: 'scan', user_id: userId, scan: structuredClone(scan) }]);
  }

  rememberHandle(handle: string, userId: string): void {
    this.write([{ k: 'user', handle, user_id: userId }]);
  }

  rememberAccount(userId: string, folder: string): void {
    this.write([{ k: 'account', user_id: userId, folder }]);
  }

  /**
   * The path this item's file goes to: the one it already has, or `wanted` unless another item
   * owns it (then a `~<media_key>` suffix makes it unique). Two items never share a path.
   */
  pathFor(mediaKey: string, wanted: string): string {
    const slot = this.state.index.slot(mediaKey);
    if (this.fileOf(mediaKey)?.path === wanted) return wanted;
    const owner = this.claims.get(wanted.toLowerCase()) ?? this.state.paths.owner(wanted);
    const chosen = owner < 0 || owner === slot ? wanted : disambiguate(wanted, mediaKey);
    this.claims.set(chosen.toLowerCase(), slot);
    return chosen;
  }

  /**
   * A slice of the archived files (all of them over CHECK_ROUNDS runs) is checked for size;
   * a file deleted or truncated since it was archived is forgotten, to be fetched again.
   */
  checkFiles(): { checked: number; forgotten: number } {
    const { index } = this.state;
    const total = this.counts().files;
    const share = Math.min(total, Math.max(MIN_CHECKS, Math.ceil(total / CHECK_ROUNDS)));
    let checked = 0;
    let forgotten = 0;
    // The cursor is a position in the index's table: walk on from it, wrapping around.
    let slot = this.state.cursor % index.capacity;
    for (let seen = 0; checked < share && seen < index.capacity; seen++, slot = (slot + 1) % index.capacity) {
      if ((index.flags(slot) & HAS_FILE) === 0) continue;
      checked += 1;
      const key = index.keyOf(slot);
      const file = this.fileOf(key);
      if (file && sizeOf(path.join(this.out, file.path)) !== file.bytes) {
        this.forgetFile(key);
        forgotten += 1;
      }
    }
    if (share < total) this.write([{ k: 'cursor', at: slot }]);
    return { checked, forgotten };
  }

  /** Rewrite the journal without its dead entries, then take a fresh snapshot (see close). */
  private compactNow(): void {
    this.state = compact(this.state, this.journal, this.dir, this.snapshotFrom);
    this.snapshotAt = this.journal.size;
    this.cached = undefined;
  }

  override close(): void {
    try {
      // Both only save work for later opens: a full disk here costs nothing now, so it is let be.
      if (!this.writable) return;
      if (this.compactOnClose || this.deadOutweighLive()) this.compactNow();
      else if (this.journal.size >= this.snapshotFrom && (this.journal.size - this.snapshotAt > SNAPSHOT_TAIL_BYTES || this.snapshotAt === 0)) this.saveSnapshot();
    } catch {
      // The journal as it was is intact; the next open replays more of it.
    } finally {
      super.close();
    }
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────

  private write(entries: Entry[]): void {
    const line = entries.length === 1 && entries[0] ? entries[0] : { k: 'tx' as const, entries };
    const offset = this.journal.append(JSON.stringify(line));
    const applier = new Applier(this.state, (at) => this.entriesAt(at), this.out, { unreadable: [], torn: undefined, unterminated: false, holes: [] });
    applier.line(entries, offset);
  }

  private prepareForWriting(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    fs.rmSync(this.tmpDir, { recursive: true, force: true });
    for (const name of fs.readdirSync(this.dir)) {
      if (/^(journal\.jsonl|index\.bin)\.\d+\.tmp$/.test(name)) fs.rmSync(path.join(this.dir, name), { force: true });
    }
    fs.mkdirSync(this.tmpDir, { recursive: true });
    if (this.report.unreadable.length > 0) {
      // Before anything is rewritten: the damaged journal is kept whole beside the new one.
      this.report.copy = path.join(this.dir, `journal.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
      fs.copyFileSync(this.journal.path, this.report.copy);
      this.compactOnClose = true;
    }
    if (this.report.torn !== undefined) this.journal.truncate(this.report.torn);
    if (this.report.unterminated) this.journal.append(''); // the newline a whole last line lacks
    this.tweets.truncate(this.state.tweetsEnd);
    if (this.journal.size === 0) this.write([{ k: 'format', v: FORMAT, epoch: randomUUID() }]);
    else if (this.state.epoch === undefined) this.compactOnClose = true;
  }

  private deadOutweighLive(): boolean {
    const { items, files } = this.counts();
    const live = items + files + this.state.markers + this.state.scans.size + this.state.handles.size + this.state.accounts.size + 1;
    return this.state.entries - live > live;
  }

  private saveSnapshot(): void {
    this.snapshotAt = snapshotArchive(this.dir, this.state, this.journal);
  }
}

function emptyState(): ArchiveState {
  return {
    index: new MediaIndex(),
    paths: new PathTable(),
    scans: new Map(),
    handles: new Map(),
    accounts: new Map(),
    lastSeq: new Map(),
    cursor: 0,
    entries: 0,
    markers: 0,
    tweetsEnd: 0,
    epoch: undefined,
  };
}

function sizeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
  }
}
