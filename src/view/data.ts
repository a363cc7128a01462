import type { MediaType } from '../types.js';

/** One archived media file as the viewer shows it. */
export interface ViewItem {
  media_key: string;
  type: MediaType;
  /** The file, relative to the archive folder, '/'-separated. */
  path: string;
  bytes: number;
  width?: number;
  height?: number;
  duration_ms?: number;
  alt_text?: string;
  tweet_id: string;
  /** ISO 8601. */
  created_at?: string;
  username?: string;
  /** The tweet's text; absent for items archived before tweets were kept. */
  text?: string;
  /** A repost's or quote's original. */
  source_tweet_id?: string;
  source_username?: string;
}

/** The data file beside index.html: a script, since a page opened from file:// cannot fetch JSON. */
export const DATA_FILE = 'index.data.js';
/** Bumped when the rows change shape; the page refuses data of another version. */
export const DATA_VERSION = 1;

/** Each row is these fields in this order (positional rows keep a 50,000-item file small). */
const FIELDS = [
  'media_key',
  'type',
  'path',
  'bytes',
  'width',
  'height',
  'duration_ms',
  'alt_text',
  'tweet_id',
  'created_at',
  'username',
  'text',
  'source_tweet_id',
  'source_username',
] as const satisfies readonly (keyof ViewItem)[];

export const DATA_HEAD =
  '/* x-media-dump viewer data, written by `x-media-dump view`: do not edit. */\n' +
  `window.xmdViewData = {"version":${DATA_VERSION},"fields":${JSON.stringify(FIELDS)},"items":[`;
export const DATA_TAIL = '\n]};\n';

/**
 * One item as a JSON array row: absent fields are null, trailing nulls dropped. `<`, U+2028 and
 * U+2029 are escaped so that no text can close a script element or end a line wherever the data goes.
 */
export function encodeRow(item: ViewItem): string {
  const row = FIELDS.map((field) => item[field] ?? null);
  while (row.length > 0 && row[row.length - 1] === null) row.pop();
  return JSON.stringify(row).replace(/[<\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
