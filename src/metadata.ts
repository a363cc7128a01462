import fs from 'node:fs';
import path from 'node:path';
import { createExclusive, fsyncAsync, type SafeFolders } from './archive/files.js';
import { fsyncDir } from './archive/fsync.js';
import { JOURNAL, type ArchiveReader } from './archive/reader.js';
import { archiveRecord } from './export.js';
import { renderFilename } from './media/filename.js';
import { normalizeTweet } from './media/normalize.js';
import { toV2Tweet, tweetText } from './media/tweet.js';
import type { MediaItem } from './types.js';

/**
 * `--write-metadata`: one JSON file per tweet beside its media, `{tweet, media}`: the tweet's X
 * API v2 record (media/tweet.ts) and its media records as `export` gives them (on disk with
 * path, bytes and sha256, or still to fetch). Written once the tweet's media are saved, each
 * atomically (a temp file beside it, fsync, rename), and only when its bytes would change.
 *
 * A run writes the sidecars of the pages it fetches, and of the tweets whose media it saved for
 * an earlier run. `.x-media-dump/metadata.json` records the template and the journal's length
 * after the last run that left every sidecar written; when the archive has changed since (a run
 * without the flag, a kill, a failure) or the template differs, the run's end goes through every
 * kept tweet instead, so no sidecar is ever missed for good.
 */

/** The state the next run compares against: what the last complete metadata pass covered. */
const STATE_FILE = 'metadata.json';

export interface SidecarFailure {
  path: string;
  tweetId: string;
  reason: string;
}

export class Sidecars {
  /** Every kept tweet gets its sidecar at the end of this run (see above). */
  readonly sweepAll: boolean;
  /** Tweets whose media this run saved outside a page it fetched (an earlier run's pending items). */
  private readonly owed = new Set<string>();
  private readonly pages = new Set<Promise<void>>();
  private failed = false;

  constructor(
    private readonly archive: ArchiveReader,
    private readonly template: string,
    private readonly folders: SafeFolders,
    /** `{account}` of a tweet's item, when the template names it. */
    private readonly accountOf: (item: MediaItem) => string | undefined,
    private readonly onFailure: (failure: SidecarFailure) => void,
  ) {
    const state = readState(archive.dir);
    const unchanged = state?.template === template && state.journal === journalBytes(archive.dir);
    this.sweepAll = !unchanged && archive.tweets.size > 0;
  }

  /** A file of `tweetId` was saved: its sidecar must say so. */
  saved(tweetId: string): void {
    if (!this.sweepAll) this.owed.add(tweetId);
  }

  /** A fetched page's tweets: their sidecars are written once `settled` (their media saved or failed) resolves. */
  afterPage(tweets: readonly unknown[], settled: Promise<void>, aborted: () => boolean): void {
    if (this.sweepAll) return;
    const job = settled.then(async () => {
      if (aborted()) return;
      const dirs = new Set<string>();
      for (const raw of tweets) {
        const done = await this.write(raw);
        if (done?.dir) dirs.add(done.dir);
        if (done) this.owed.delete(done.tweetId);
      }
      for (const dir of dirs) fsyncDir(dir);
    });
    this.pages.add(job);
    void job.finally(() => this.pages.delete(job));
  }

  /**
   * At the run's end (queue drained): the pages still waiting, then the tweets owed (or all of
   * them), then the state, when every sidecar is written. Stops at an interruption.
   */
  async finish(aborted: () => boolean): Promise<void> {
    while (this.pages.size > 0) await Promise.allSettled([...this.pages]);
    if (aborted()) return;
    if (this.sweepAll || this.owed.size > 0) {
      const dirs = new Set<string>();
      for (const raw of this.archive.tweetsKept()) {
        if (aborted()) return;
        if (!this.sweepAll && !this.owed.has(tweetText(raw)?.id ?? '')) continue;
        const done = await this.write(raw);
        if (done?.dir) dirs.add(done.dir);
      }
      for (const dir of dirs) fsyncDir(dir);
    }
    if (!this.failed) this.saveState();
  }

  /** One tweet's sidecar, if it has media: its tweet, and its folder when the file was (re)written. */
  private async write(raw: unknown): Promise<{ tweetId: string; dir: string | undefined } | undefined> {
    const items = normalizeTweet(raw).items;
    const first = items[0];
    if (!first) return undefined;
    const tweet = toV2Tweet(raw, items);
    if (!tweet) return undefined;
    const relPath = renderFilename(this.template, first, 'json', this.accountOf(first));
    const media = items.map((item) => archiveRecord(item, this.archive.fileOf(item.media.media_key)));
    const bytes = Buffer.from(`${JSON.stringify({ tweet, media }, null, 2)}\n`);
    try {
      const target = await this.folders.target(relPath);
      if (hasBytes(target, bytes)) {
        // A run killed while rewriting it may have left its temp file: never renamed, so never a sidecar.
        fs.rmSync(tempFor(target), { force: true });
        return { tweetId: tweet.id, dir: undefined };
      }
      await this.replace(target, bytes);
      return { tweetId: tweet.id, dir: path.dirname(target) };
    } catch (error) {
      this.failed = true;
      // Said once: not tried again at the run's end.
      this.owed.delete(tweet.id);
      const code = (error as { code?: unknown } | null)?.code;
      this.onFailure({ path: relPath, tweetId: tweet.id, reason: typeof code === 'string' ? `cannot write ${relPath} (${code})` : error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }

  /** Temp file beside the target (never through a link), fsync, rename over it. */
  private async replace(target: string, bytes: Buffer): Promise<void> {
    const temp = tempFor(target);
    // Whatever is there (a killed run's temp, a planted link) is unlinked and the create tried again.
    const fd = await createExclusive(temp);
    try {
      for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done);
      await fsyncAsync(fd);
    } catch (error) {
      fs.closeSync(fd);
      fs.rmSync(temp, { force: true });
      throw error;
    }
    fs.closeSync(fd);
    try {
      await fs.promises.rename(temp, target);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw error;
    }
  }

  private saveState(): void {
    const file = path.join(this.archive.dir, STATE_FILE);
    const temp = `${file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(temp, `${JSON.stringify({ template: this.template, journal: journalBytes(this.archive.dir) })}\n`);
      fs.renameSync(temp, file);
    } catch {
      // Without it the next run goes through every tweet again: slower, never wrong.
      fs.rmSync(temp, { force: true });
    }
  }
}

/**
 * One temp name per sidecar, beside it: one run at a time holds the archive, and a name a killed
 * run left is taken over (createExclusive) or removed the next time the sidecar is checked.
 */
function tempFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.x-media-dump.tmp`);
}

/** The file holds exactly `bytes` (read without following a link: a link is replaced, not read through). */
function hasBytes(file: string, bytes: Buffer): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
    if (fs.fstatSync(fd).size !== bytes.length) return false;
    const held = Buffer.alloc(bytes.length);
    let read = 0;
    while (read < held.length) {
      const n = fs.readSync(fd, held, read, held.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return read === bytes.length && held.equals(bytes);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function readState(dir: string): { template: string; journal: number } | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), 'utf8')) as { template?: unknown; journal?: unknown };
    return typeof state.template === 'string' && typeof state.journal === 'number' ? { template: state.template, journal: state.journal } : undefined;
  } catch {
    return undefined;
  }
}

function journalBytes(dir: string): number {
  try {
    return fs.statSync(path.join(dir, JOURNAL)).size;
  } catch {
    return 0;
  }
}
