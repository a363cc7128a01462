import { toRecord } from './output/records.js';
import { openArchiveForReading } from './session.js';
import type { ItemRecord } from './types.js';

/**
 * `export`: every media item the archive knows, `exists` with its file or `planned` when not yet
 * saved, in the order found. Streamed: one record at a time, whatever the archive's size. No API,
 * no lock, no writes.
 */
export function* exportRecords(out: string, onDamage?: (message: string) => void): Generator<ItemRecord> {
  const archive = openArchiveForReading(out);
  const lost = archive.report.unreadable.length + archive.report.holes.length;
  if (lost > 0) onDamage?.(`the journal has ${archive.report.unreadable.length} unreadable line(s); the records they held are missing here until the next archive run recovers them`);
  try {
    for (const { item, file } of archive.records()) {
      yield file ? toRecord(item, 'exists', { file }) : toRecord(item, 'planned', { reason: 'not downloaded yet' });
    }
  } finally {
    archive.close();
  }
}
