import path from 'node:path';
import type { ArchivedFile, MediaItem, ScanState } from '../types.js';
import { parseLine, STATE_DIR, type Entry } from './entries.js';
import { HAS_FILE, HAS_ITEM, UPGRADABLE } from './index.js';
import { JournalFile } from './journal.js';
import { replay, type ArchiveState, type Damage, type Hole } from './replay.js';
import { restoreArchive } from './snapshot.js';
import { storedTweets, TweetStore, TWEETS_FILE, type StoredPage } from './tweets.js';

/**
 * Reading an archive: the index over the journal (from the snapshot, then the journal's tail),
 * and lookups that read entries back from the journal by offset. What `export`, `verify` and
 * `view` need; `Archive` (state.ts) adds the writing.
 */

export { STATE_DIR };
export const JOURNAL = 'journal.jsonl';

/** What opening found wrong with the journal, and what was done about it. */
export interface OpenReport extends Damage {
  /** Where the damaged journal was copied before anything was rewritten. */
  copy: string | undefined;
}

export class ArchiveReader {
  readonly tweets: TweetStore;
  report: OpenReport = { unreadable: [], torn: undefined, unterminated: false, holes: [], copy: undefined };
  protected readonly journal: JournalFile;
  protected snapshotAt = 0;
  protected cached: { offset: number; entries: Entry[] } | undefined;

  protected constructor(
    readonly out: string,
    readonly dir: string,
    protected state: ArchiveState,
  ) {
    this.journal = new JournalFile(path.join(dir, JOURNAL));
    this.tweets = new TweetStore(path.join(dir, TWEETS_FILE));
  }

  get tmpDir(): string {
    return path.join(this.dir, 'tmp');
  }

  get handles(): ReadonlyMap<string, string> {
    return this.state.handles;
  }

  get accounts(): ReadonlyMap<string, string> {
    return this.state.accounts;
  }

  hasItem(mediaKey: string): boolean {
    const slot = this.state.index.find(mediaKey);
    return slot >= 0 && (this.state.index.flags(slot) & HAS_ITEM) !== 0;
  }

  /** Whether a file of `mediaKey` is archived (from the index: no journal read). */
  hasFile(mediaKey: string): boolean {
    const slot = this.state.index.find(mediaKey);
    return slot >= 0 && (this.state.index.flags(slot) & HAS_FILE) !== 0;
  }

  itemOf(mediaKey: string): MediaItem | undefined {
    const slot = this.state.index.find(mediaKey);
    const offset = slot < 0 ? -1 : this.state.index.itemAt(slot);
    const entry = offset < 0 ? undefined : this.entriesAt(offset).find((e) => e.k === 'item' && e.item.media.media_key === mediaKey);
    return entry?.k === 'item' ? entry.item : undefined;
  }

  fileOf(mediaKey: string): ArchivedFile | undefined {
    const slot = this.state.index.find(mediaKey);
    const offset = slot < 0 ? -1 : this.state.index.fileAt(slot);
    const entry = offset < 0 ? undefined : this.entriesAt(offset).find((e) => e.k === 'file' && e.file.media_key === mediaKey);
    return entry?.k === 'file' ? entry.file : undefined;
  }

  /** Items with no file yet, or with one saved from a fallback size, in the order found. */
  *pending(): Generator<MediaItem> {
    const { index } = this.state;
    const due: number[] = [];
    for (const slot of index.slots()) {
      const flags = index.flags(slot);
      if ((flags & HAS_ITEM) !== 0 && ((flags & HAS_FILE) === 0 || (flags & UPGRADABLE) !== 0)) due.push(slot);
    }
    due.sort((a, b) => index.itemAt(a) - index.itemAt(b));
    for (const slot of due) {
      const item = this.itemOf(index.keyOf(slot));
      if (item) yield item;
    }
  }

  /** Every item the archive knows, in the order found (one pass over the journal). */
  *items(): Generator<MediaItem> {
    const { index } = this.state;
    for (const { entry, offset } of this.liveEntries()) {
      if (entry.k === 'item' && index.itemAt(index.find(entry.item.media.media_key)) === offset) yield entry.item;
    }
  }

  /** Every item the archive knows, in the order found, with its file if it has one (`export`). */
  *records(): Generator<{ item: MediaItem; file: ArchivedFile | undefined }> {
    for (const item of this.items()) yield { item, file: this.fileOf(item.media.media_key) };
  }

  /** Every archived file, in the order saved (`verify`). */
  *files(): Generator<ArchivedFile> {
    const { index } = this.state;
    for (const { entry, offset } of this.liveEntries()) {
      if (entry.k === 'file' && index.fileAt(index.find(entry.file.media_key)) === offset) yield entry.file;
    }
  }

  /** How many items and files the archive holds. */
  counts(): { items: number; files: number } {
    const { items, files } = this.state.index;
    return { items, files };
  }

  scanOf(userId: string): ScanState {
    const scan = this.state.scans.get(userId);
    return scan ? structuredClone(scan) : { gaps: [], complete: false, pages: 0 };
  }

  /** The tweets stored for the pages a hole lost, if the store still has them. */
  storedPages(hole: Hole): StoredPage[] {
    const pages = this.tweets.read(hole.tweetsFrom, hole.tweetsTo ?? this.tweets.size);
    return pages.filter((p) => p.user_id === hole.user_id && p.seq >= hole.from && p.seq <= hole.to);
  }

  /** Every tweet the archive kept, each once (its latest copy), newest pages first. */
  tweetsKept(): Generator<unknown> {
    return storedTweets(this.pageRefs(), this.tweets);
  }

  /** The tweet-store members the journal names, in journal order. */
  private *pageRefs(): Generator<{ at: number; len: number }> {
    for (const { entry } of this.liveEntries()) if (entry.k === 'page' && entry.tweets) yield entry.tweets;
  }

  close(): void {
    this.journal.close();
    this.tweets.close();
  }

  protected entriesAt(offset: number): Entry[] {
    if (this.cached?.offset !== offset) this.cached = { offset, entries: parseLine(this.journal.lineAt(offset)) ?? [] };
    return this.cached.entries;
  }

  protected *liveEntries(): Generator<{ entry: Entry; offset: number }> {
    for (const line of this.journal.lines()) {
      if (!line.complete) return;
      for (const entry of parseLine(line.text) ?? []) yield { entry, offset: line.offset };
    }
  }

  protected load(): void {
    const restored = restoreArchive(this.dir, this.journal);
    if (restored) {
      this.state = restored.state;
      this.snapshotAt = restored.journalBytes;
    }
    const damage = replay(this.state, this.journal, this.snapshotAt, this.out);
    this.report = { ...damage, copy: undefined };
  }

}
