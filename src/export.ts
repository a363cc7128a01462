import type { ArchiveReader } from './archive/reader.js';
import { toV2Tweet } from './media/tweet.js';
import { toRecord } from './output/records.js';
import { openArchiveForReading } from './session.js';
import type { ArchivedFile, ItemRecord, MediaItem } from './types.js';

/**
 * `export`: every media item the archive knows, `exists` with its file or `planned` when not yet
 * saved, in the order found. Streamed: one record at a time, whatever the archive's size. No API,
 * no lock, no writes.
 */
export function* exportRecords(out: string, onDamage?: (message: string) => void): Generator<ItemRecord> {
  const archive = openForExport(out, onDamage);
  try {
    for (const { item, file } of archive.records()) yield archiveRecord(item, file);
  } finally {
    archive.close();
  }
}

/** A media item as `export` (and a metadata sidecar) gives it: on disk, or still to fetch. */
export function archiveRecord(item: MediaItem, file: ArchivedFile | undefined): ItemRecord {
  return file ? toRecord(item, 'exists', { file }) : toRecord(item, 'planned', { reason: 'not downloaded yet' });
}

/**
 * `export --tweets`: every tweet the archive kept, once each (its latest copy), newest pages
 * first; as X API v2 Tweet objects, or with `raw` as the API sent them. A kept tweet with no id
 * a v2 record can hold is left out of the v2 form, and counted in one notice.
 */
export function* exportTweets(out: string, options: { raw: boolean }, notice?: (message: string) => void): Generator<unknown> {
  const archive = openForExport(out, notice);
  let unmapped = 0;
  try {
    for (const raw of archive.tweetsKept()) {
      if (options.raw) {
        yield raw;
        continue;
      }
      const tweet = toV2Tweet(raw);
      if (tweet) yield tweet;
      else unmapped += 1;
    }
  } finally {
    archive.close();
  }
  if (unmapped > 0) notice?.(`${unmapped} kept tweet(s) have no id an X v2 Tweet can hold and are left out; export --tweets --raw prints them as the API sent them`);
}

function openForExport(out: string, onDamage?: (message: string) => void): ArchiveReader {
  return openArchiveForReading(out, (unreadable) => onDamage?.(`the journal has ${unreadable} unreadable line(s); the records they held are missing here until the next archive run recovers them`));
}
