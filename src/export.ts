import { toRecord } from './output/records.js';
import { openArchiveForReading } from './session.js';
import type { ItemRecord } from './types.js';

/** `export`: every media item the archive knows, `exists` with its file or `planned` when not yet saved. No API, no lock. */
export function exportRecords(out: string): ItemRecord[] {
  const archive = openArchiveForReading(out);
  return [...archive.items.values()].map((item) => {
    const file = archive.files.get(item.media.media_key);
    return file ? toRecord(item, 'exists', { file }) : toRecord(item, 'planned', { reason: 'not downloaded yet' });
  });
}
