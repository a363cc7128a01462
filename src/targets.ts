import { createHash } from 'node:crypto';
import { UsageError } from './errors.js';

/**
 * Who to archive: `--user` (repeatable) and `--users-file`, each target a numeric id, `@handle`,
 * `handle` or a profile URL as a browser shows it; and `--shard K/N`, which of them this machine
 * takes.
 */

export type UserRef = { kind: 'id'; id: string } | { kind: 'handle'; handle: string };

const PROFILE_HOSTS = new Set(['x.com', 'twitter.com', 'mobile.twitter.com', 'mobile.x.com', 'www.x.com', 'www.twitter.com']);
/** Paths on x.com that are pages, not profiles. */
const NOT_PROFILES = new Set(['home', 'i', 'explore', 'search', 'settings', 'messages', 'notifications', 'intent', 'share', 'hashtag']);

/** One target as the user wrote it → an id or a (lower-cased) handle; `where` names it in errors. */
export function parseTarget(value: string, where = '--user'): UserRef {
  const target = targetOf(value);
  if (target !== undefined) return target;
  throw new UsageError(`${where} ${JSON.stringify(value)} is neither a numeric user id, a handle like @omarmhaimdat, nor a profile URL like https://x.com/omarmhaimdat`);
}

/** How a target is said: `@handle`, or the id. */
export function targetName(target: UserRef): string {
  return target.kind === 'id' ? target.id : `@${target.handle}`;
}

/** What `value` names as --user takes it, or undefined when it names nothing. */
export function targetOf(value: string): UserRef | undefined {
  const trimmed = value.trim();
  if (/^\d{1,20}$/.test(trimmed)) return { kind: 'id', id: trimmed.replace(/^0+(?=\d)/, '') };
  const handle = handleOf(trimmed);
  return handle === undefined ? undefined : { kind: 'handle', handle: handle.toLowerCase() };
}

function handleOf(text: string): string | undefined {
  const bare = text.replace(/^@/, '');
  if (/^\w{1,50}$/.test(bare)) return bare;
  if (!/^(https?:\/\/)?([\w-]+\.)*(x|twitter)\.com\//i.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(/^https?:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    return undefined;
  }
  if (!PROFILE_HOSTS.has(url.hostname.toLowerCase())) return undefined;
  // https://x.com/name, /name/, /name/media, /name/with_replies?… — the first segment is the handle.
  const first = url.pathname.split('/').filter(Boolean)[0] ?? '';
  return /^\w{1,50}$/.test(first) && !NOT_PROFILES.has(first.toLowerCase()) ? first : undefined;
}

/** A users file: one target per line; `#` starts a comment; blank lines are skipped. */
export function parseUsersFile(text: string, name: string): UserRef[] {
  const users: UserRef[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const target = line.replace(/#.*$/, '').trim();
    if (target !== '') users.push(parseTarget(target, `${name} line ${index + 1}:`));
  });
  return users;
}

/** The same account written twice the same way (ids, or handles in any case) counts once. */
export function uniqueTargets(users: readonly UserRef[]): UserRef[] {
  const seen = new Set<string>();
  return users.filter((user) => {
    const key = user.kind === 'id' ? `id:${user.id}` : `handle:${user.handle}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface Shard {
  /** 0-based: `--shard 0/4` … `--shard 3/4` (as Kubernetes' JOB_COMPLETION_INDEX counts). */
  index: number;
  count: number;
}

export function parseShard(value: string): Shard {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(value.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) throw new UsageError(`--shard ${JSON.stringify(value)} is not K/N with 0 ≤ K < N (e.g. --shard 0/4 … --shard 3/4)`);
  return { index, count };
}

/** Which shard an account falls in: a hash of its id, the same on every machine and every run. */
export function shardOf(userId: string, count: number): number {
  return createHash('sha256').update(userId).digest().readUInt32BE(0) % count;
}
