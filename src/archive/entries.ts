import type { ArchivedFile, MediaItem, ScanState } from '../types.js';
import type { TweetsRef } from './tweets.js';

/**
 * The journal's entries: one JSON object per fact. Changes that must land together (a page's
 * marker, its new items and the paging progress past it) share one line as `tx`.
 */

/** 2: page markers, the tweet store, the snapshot. A version-1 journal is read and upgraded. */
export const FORMAT = 2;

/** The archive's state folder under `--out`: the journal, the tweets, the snapshot, the lock. */
export const STATE_DIR = '.x-media-dump';

/** One fetched page: its number in the user's paging (`seq`), its newest tweet id and its tweets. */
export interface PageMarker {
  k: 'page';
  user_id: string;
  seq: number;
  newest?: string;
  tweets?: TweetsRef;
  /** Written for a page whose journal line was lost: its media came back another way. */
  recovered?: true;
}

export type Entry =
  | { k: 'format'; v: number; epoch?: string }
  | { k: 'item'; item: MediaItem }
  | { k: 'file'; file: ArchivedFile }
  | { k: 'unfile'; media_key: string }
  | { k: 'scan'; user_id: string; scan: ScanState }
  | { k: 'user'; handle: string; user_id: string }
  | { k: 'account'; user_id: string; folder: string }
  | { k: 'cursor'; at: number }
  | PageMarker
  | { k: 'tx'; entries: Entry[] };

/** The entries of one line, `tx` opened; undefined when the line is not one we wrote. */
export function parseLine(text: string): Entry[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const out: Entry[] = [];
  return collect(value, out, 0) ? out : undefined;
}

function collect(value: unknown, out: Entry[], depth: number): boolean {
  if (!isObject(value)) return false;
  if (value['k'] === 'tx') {
    const inner = value['entries'];
    return depth === 0 && Array.isArray(inner) && inner.every((entry) => collect(entry, out, depth + 1));
  }
  if (!isEntry(value)) return false;
  out.push(value);
  return true;
}

/** Enough of each entry's shape that applying it cannot go wrong. */
function isEntry(v: Record<string, unknown>): v is Exclude<Entry, { k: 'tx' }> & Record<string, unknown> {
  switch (v['k']) {
    case 'format':
      return typeof v['v'] === 'number';
    case 'item': {
      const item = v['item'];
      if (!isObject(item) || !isObject(item['media']) || !isObject(item['tweet'])) return false;
      return typeof item['media']['media_key'] === 'string' && typeof item['media']['type'] === 'string' && typeof item['tweet']['tweet_id'] === 'string';
    }
    case 'file': {
      const file = v['file'];
      return isObject(file) && typeof file['media_key'] === 'string' && typeof file['path'] === 'string' && typeof file['bytes'] === 'number' && typeof file['sha256'] === 'string';
    }
    case 'unfile':
      return typeof v['media_key'] === 'string';
    case 'scan': {
      const scan = v['scan'];
      return typeof v['user_id'] === 'string' && isObject(scan) && Array.isArray(scan['gaps']) && typeof scan['pages'] === 'number';
    }
    case 'user':
      return typeof v['handle'] === 'string' && typeof v['user_id'] === 'string';
    case 'account':
      return typeof v['user_id'] === 'string' && typeof v['folder'] === 'string';
    case 'cursor':
      return typeof v['at'] === 'number';
    case 'page':
      return typeof v['user_id'] === 'string' && typeof v['seq'] === 'number';
    default:
      return false;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
