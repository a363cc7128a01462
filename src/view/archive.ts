import fs from 'node:fs';
import path from 'node:path';
import type { ArchiveReader } from '../archive/reader.js';
import { tweetText } from '../media/tweet.js';
import { openArchiveForReading } from '../session.js';
import type { ArchivedFile, MediaItem } from '../types.js';
import type { ViewItem } from './data.js';
import { PAGE_FILE } from './page.js';
import { writeViewer } from './write.js';

/** In the state folder: what the viewer last written still lacks (see viewerMayChange). */
const VIEW_STATE = 'view.json';

/** What `view` wrote: the page, how many media it lists, and how many of those have their tweet's text. */
export interface ViewSummary {
  page: string;
  items: number;
  withText: number;
}

/** `view`: the archive's viewer, from the archive alone (no API, no lock: only index.html and its data are written). */
export async function viewArchive(out: string, notice?: (message: string) => void): Promise<ViewSummary> {
  const archive = openArchiveForReading(out, (unreadable) => notice?.(`the journal has ${unreadable} unreadable line(s); the media they recorded are missing from the viewer until the next archive run recovers them`));
  try {
    return await writeArchiveViewer(archive);
  } finally {
    archive.close();
  }
}

/** Whether `out` has a viewer a run should keep up to date. */
export function hasViewer(out: string): boolean {
  return fs.existsSync(path.join(out, PAGE_FILE));
}

/**
 * One tile per media file on disk, with its tweet's text where the archive kept the tweet (items
 * archived before tweets were kept have none, and still show). Memory holds the texts of the
 * tweets that have a file, which the data file holds anyway; items and tweets are streamed.
 */
export async function writeArchiveViewer(archive: ArchiveReader): Promise<ViewSummary> {
  const texts = textsOfArchivedTweets(archive);
  let withText = 0;
  function* items(): Generator<ViewItem> {
    for (const { item, file } of archive.records()) {
      if (!file || !isOnDisk(archive.out, file)) continue;
      const text = texts.get(item.tweet.tweet_id);
      if (text !== undefined) withText += 1;
      yield viewItem(item, file, text);
    }
  }
  const { items: count } = await writeViewer(archive.out, items());
  // Only a hint for the next run (see viewerMayChange): a failure to keep it costs a rewrite, no more.
  try {
    fs.writeFileSync(path.join(archive.dir, VIEW_STATE), `${JSON.stringify({ textless: count - withText })}\n`);
  } catch {
    // A read-only state folder (view on a read-only archive): the next run rewrites the viewer.
  }
  return { page: path.join(archive.out, PAGE_FILE), items: count, withText };
}

/**
 * Whether a run's end should rewrite the viewer: it saved a file, or the viewer last written has
 * tiles without their tweet's text (an archive older than the tweet store), which a page this run
 * fetched may have brought. Otherwise the viewer on disk is the one a rewrite would make, and a
 * nightly run over a million media need not read the whole archive again to find that out.
 */
export function viewerMayChange(archive: ArchiveReader, savedFiles: number): boolean {
  if (savedFiles > 0) return true;
  try {
    const state = JSON.parse(fs.readFileSync(path.join(archive.dir, VIEW_STATE), 'utf8')) as { textless?: unknown };
    return state.textless !== 0;
  } catch {
    return true;
  }
}

/** The text of each kept tweet that has at least one file (its latest copy). */
function textsOfArchivedTweets(archive: ArchiveReader): Map<string, string> {
  const wanted = new Set<string>();
  for (const item of archive.items()) if (archive.hasFile(item.media.media_key)) wanted.add(item.tweet.tweet_id);
  const texts = new Map<string, string>();
  for (const raw of archive.tweetsKept()) {
    const tweet = tweetText(raw);
    if (tweet?.text !== undefined && wanted.has(tweet.id)) texts.set(tweet.id, tweet.text);
  }
  return texts;
}

function isOnDisk(out: string, file: ArchivedFile): boolean {
  try {
    return fs.lstatSync(path.join(out, file.path)).isFile();
  } catch {
    return false;
  }
}

function viewItem(item: MediaItem, file: ArchivedFile, text: string | undefined): ViewItem {
  const { media, tweet } = item;
  return {
    media_key: media.media_key,
    type: media.type,
    path: file.path,
    bytes: file.bytes,
    ...(media.width !== undefined && { width: media.width }),
    ...(media.height !== undefined && { height: media.height }),
    ...(media.duration_ms !== undefined && { duration_ms: media.duration_ms }),
    ...(media.alt_text !== undefined && { alt_text: media.alt_text }),
    tweet_id: tweet.tweet_id,
    ...(tweet.created_at !== undefined && { created_at: tweet.created_at }),
    ...(tweet.username !== undefined && { username: tweet.username }),
    ...(text !== undefined && { text }),
    ...(tweet.source_tweet_id !== undefined && { source_tweet_id: tweet.source_tweet_id }),
    ...(tweet.source_username !== undefined && { source_username: tweet.source_username }),
  };
}
