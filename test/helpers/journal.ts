import fs from 'node:fs';
import path from 'node:path';

/** The journal as a test reads it: independently of the archive's own reader. */

export interface JournalState {
  lines: number;
  items: Set<string>;
  files: Map<string, { path: string; sha256: string; bytes: number }>;
  scan: { head?: string; gaps: { token: string; floor?: string }[]; complete: boolean; pages: number } | undefined;
}

/** Replays the journal the way the archive does; every line must parse (`tornTail` allows the last not to). */
export function readJournal(out: string, tornTail = false): JournalState {
  const state: JournalState = { lines: 0, items: new Set(), files: new Map(), scan: undefined };
  let text = '';
  try {
    text = fs.readFileSync(path.join(out, '.x-media-dump', 'journal.jsonl'), 'utf8');
  } catch {
    return state;
  }
  const lines = text.split('\n');
  const last = lines.pop();
  if (last !== '' && !tornTail) throw new Error(`journal ends without a newline: ${last}`);
  const apply = (entry: Record<string, unknown>): void => {
    const k = entry['k'];
    if (k === 'tx') for (const inner of entry['entries'] as Record<string, unknown>[]) apply(inner);
    else if (k === 'item') state.items.add((entry['item'] as { media: { media_key: string } }).media.media_key);
    else if (k === 'file') {
      const file = entry['file'] as { media_key: string; path: string; sha256: string; bytes: number };
      state.files.set(file.media_key, file);
    } else if (k === 'unfile') state.files.delete(String(entry['media_key']));
    else if (k === 'scan') state.scan = entry['scan'] as JournalState['scan'];
  };
  for (const line of lines) {
    apply(JSON.parse(line) as Record<string, unknown>);
    state.lines += 1;
  }
  return state;
}
