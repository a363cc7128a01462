import path from 'node:path';
import { STATE_DIR } from '../archive/entries.js';
import { CONTROL_OR_BIDI } from '../output/terminal.js';
import type { MediaItem } from '../types.js';

const FILENAME_FIELDS = ['tweet_id', 'n', 'media_key', 'type', 'date', 'username', 'account', 'ext'] as const;
export type FilenameField = (typeof FILENAME_FIELDS)[number];
export const DEFAULT_FILENAME = '{tweet_id}_{n}.{ext}';
/** With more than one account in a run: each account's files in its own folder. */
export const DEFAULT_MULTI_FILENAME = '{account}/{tweet_id}_{n}.{ext}';

/** Whether a template names the account's folder (which is then chosen, and remembered). */
export function usesAccount(template: string): boolean {
  return template.includes('{account}');
}

const FIELD = /\{([^{}]*)\}/g;
// Characters no common file system accepts in a name, and control characters.
const UNSAFE = /[<>:"/\\|?*\u0000-\u001f\u007f]/g;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;

/** The problem with a --filename template, or undefined when it is usable. */
export function checkTemplate(template: string): string | undefined {
  if (template.trim() === '') return 'is empty';
  for (const match of template.matchAll(FIELD)) {
    const name = match[1] ?? '';
    if (!(FILENAME_FIELDS as readonly string[]).includes(name)) {
      return `has unknown field {${name}}; use ${FILENAME_FIELDS.map((f) => `{${f}}`).join(' ')}`;
    }
  }
  if (/[{}]/.test(template.replace(FIELD, ''))) return 'has an unmatched { or }';
  if (path.isAbsolute(template) || template.split(/[/\\]/).some((part) => part === '..')) return 'must stay inside --out';
  const first = template.split(/[/\\]/).find((part) => part !== '') ?? '';
  if (sanitizeComponent(first).toLowerCase() === STATE_DIR) return `renders into ${STATE_DIR}/, the archive's state folder; pick another folder name`;
  return undefined;
}

/**
 * The relative path of an item's file: every component sanitized, never empty, never `.`/`..`,
 * so the result always resolves inside --out. `account` is the `{account}` folder, given whenever
 * the template names it.
 */
export function renderFilename(template: string, item: MediaItem, ext: string, account: string | undefined): string {
  const values: Record<FilenameField, string> = {
    tweet_id: item.tweet.tweet_id,
    n: String(item.n),
    media_key: item.media.media_key,
    type: item.media.type,
    date: item.tweet.created_at?.slice(0, 10) ?? 'undated',
    username: item.tweet.username ?? 'unknown',
    account: account ?? 'unknown',
    ext,
  };
  const parts = template
    .split(/[/\\]/)
    .map((part) => sanitizeComponent(part.replace(FIELD, (_, name: string) => sanitizeComponent(values[name as FilenameField]))))
    .filter((part) => part !== '');
  return parts.length > 0 ? parts.join('/') : `${sanitizeComponent(item.media.media_key)}.${ext}`;
}

export function sanitizeComponent(value: string): string {
  // Terminal controls and bidi overrides too: a name must read as what it is (`gpj.exe` is not `exe.jpg`).
  let safe = value.replace(UNSAFE, '_').replace(CONTROL_OR_BIDI, '_').replace(/[. ]+$/, '').replace(/^\s+/, '');
  // A value of only dots or spaces (`..`) must not vanish and take its folder level with it.
  if (safe === '' && value !== '') safe = '_';
  if (WINDOWS_RESERVED.test(safe)) safe = `_${safe}`;
  // Most file systems cap a name at 255 bytes; keep well under it, cutting whole code points.
  if (Buffer.byteLength(safe) > 200) {
    const chars = [...safe];
    while (Buffer.byteLength(chars.join('')) > 200) chars.pop();
    safe = chars.join('');
  }
  return safe;
}
