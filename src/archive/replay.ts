import { UsageError } from '../errors.js';
import type { ArchivedFile, MediaItem, ScanState } from '../types.js';
import { FORMAT, parseLine, type Entry, type PageMarker } from './entries.js';
import { HAS_FILE, HAS_ITEM, UPGRADABLE, type MediaIndex } from './index.js';
import type { JournalFile } from './journal.js';
import type { PathTable } from './paths.js';

/** Everything the archive knows, as replayed from the journal (and the snapshot before it). */
export interface ArchiveState {
  index: MediaIndex;
  paths: PathTable;
  scans: Map<string, ScanState>;
  handles: Map<string, string>;
  accounts: Map<string, string>;
  /** The last page number journaled per user. */
  lastSeq: Map<string, number>;
  /** Where the rotating check of archived files goes on from. */
  cursor: number;
  /** Entries applied in all (live or superseded): with the live count, when to compact. */
  entries: number;
  markers: number;
  /** The end of the last tweet-store member a page marker names. */
  tweetsEnd: number;
  epoch: string | undefined;
}

/** Pages of one user whose journal lines are lost: numbers `from`..`to`, found before page `to + 1`. */
export interface Hole {
  user_id: string;
  from: number;
  to: number;
  /** The newest tweet id of the page after the hole: re-paging can stop there. */
  floor: string | undefined;
  /** The tweet-store bytes the lost pages' tweets must lie in. */
  tweetsFrom: number;
  tweetsTo: number | undefined;
}

/** What reading the journal found wrong. */
export interface Damage {
  /** Offsets of whole lines that could not be read (not a torn end). */
  unreadable: number[];
  /** Offset of a last line cut short by a crash mid-write. */
  torn: number | undefined;
  /** A last line that is whole but for its newline: kept, and its newline added when writing. */
  unterminated: boolean;
  holes: Hole[];
}

/** Apply every line from `from` on; returns what was damaged. */
export function replay(state: ArchiveState, journal: JournalFile, from: number, out: string): Damage {
  const damage: Damage = { unreadable: [], torn: undefined, unterminated: false, holes: [] };
  const applier = new Applier(state, (offset) => parseLine(journal.lineAt(offset)) ?? [], out, damage);
  for (const line of journal.lines(from)) {
    if (line.text === '') continue;
    const entries = parseLine(line.text);
    if (!line.complete) {
      // Cut before its newline: whole if it reads, else the torn end of a write a crash stopped.
      if (entries === undefined) damage.torn = line.offset;
      else applier.line(entries, line.offset);
      damage.unterminated = entries !== undefined;
      break;
    }
    if (entries === undefined) damage.unreadable.push(line.offset);
    else applier.line(entries, line.offset);
  }
  return damage;
}

export class Applier {
  constructor(
    private readonly state: ArchiveState,
    /** The entries of the journal line at an offset (a reader passes its cached lookup). */
    private readonly entriesAt: (offset: number) => readonly Entry[],
    private readonly out: string,
    private readonly damage: Damage,
  ) {}

  /** A line's entries; the page marker first, as every page line is written. */
  line(entries: readonly Entry[], offset: number): void {
    for (const entry of entries) this.apply(entry, offset);
  }

  apply(entry: Entry, offset: number): void {
    const { state } = this;
    state.entries += 1;
    switch (entry.k) {
      case 'format':
        if (entry.v > FORMAT) throw new UsageError(`${this.out} was written by a newer x-media-dump (archive format ${entry.v}); upgrade x-media-dump`);
        state.epoch = entry.epoch;
        return;
      case 'tx':
        state.entries -= 1;
        for (const inner of entry.entries) this.apply(inner, offset);
        return;
      case 'item':
        return this.item(entry.item, offset);
      case 'file':
        return this.file(entry.file, offset);
      case 'unfile':
        return this.unfile(entry.media_key);
      case 'scan':
        state.scans.set(entry.user_id, entry.scan);
        return;
      case 'user':
        state.handles.set(entry.handle, entry.user_id);
        return;
      case 'account':
        state.accounts.set(entry.user_id, entry.folder);
        return;
      case 'cursor':
        state.cursor = entry.at;
        return;
      case 'page':
        return this.page(entry);
    }
  }

  private item(item: MediaItem, offset: number): void {
    const { index } = this.state;
    const slot = index.slot(item.media.media_key);
    index.setItem(slot, offset);
    index.setFlags(slot, HAS_ITEM);
  }

  private file(file: ArchivedFile, offset: number): void {
    const { index, paths } = this.state;
    const slot = index.slot(file.media_key);
    this.releasePath(slot);
    index.setFile(slot, offset);
    index.setFlags(slot, HAS_FILE | (file.upgradable ? UPGRADABLE : 0), file.upgradable ? 0 : UPGRADABLE);
    paths.claim(file.path, slot);
  }

  private unfile(mediaKey: string): void {
    const { index } = this.state;
    const slot = index.find(mediaKey);
    if (slot < 0) return;
    this.releasePath(slot);
    index.setFile(slot, -1);
    index.setFlags(slot, 0, HAS_FILE | UPGRADABLE);
  }

  /** The path the slot's current file holds is free again. */
  private releasePath(slot: number): void {
    const offset = this.state.index.fileAt(slot);
    if (offset < 0) return;
    const key = this.state.index.keyOf(slot);
    const entry = this.entriesAt(offset).find((e) => e.k === 'file' && e.file.media_key === key);
    if (entry?.k === 'file') this.state.paths.release(entry.file.path, slot);
  }

  /**
   * Page numbers run 1, 2, 3 … per user; a number skipped means the lines of the pages between
   * were lost. A later marker with a skipped number (a recovery) fills its hole again.
   */
  private page(marker: PageMarker): void {
    const { state } = this;
    state.markers += 1;
    const last = state.lastSeq.get(marker.user_id) ?? state.scans.get(marker.user_id)?.pages ?? 0;
    if (marker.seq > last + 1) {
      this.damage.holes.push({
        user_id: marker.user_id,
        from: last + 1,
        to: marker.seq - 1,
        floor: marker.newest,
        tweetsFrom: state.tweetsEnd,
        tweetsTo: marker.tweets?.at,
      });
    } else if (marker.seq <= last) {
      this.damage.holes = this.damage.holes.filter((h) => h.user_id !== marker.user_id || marker.seq < h.from || marker.seq > h.to);
    }
    state.lastSeq.set(marker.user_id, Math.max(last, marker.seq));
    if (marker.tweets) state.tweetsEnd = Math.max(state.tweetsEnd, marker.tweets.at + marker.tweets.len);
  }
}
