import fs from 'node:fs';
import path from 'node:path';
import { errnoText, UsageError } from './errors.js';
import { checkTemplate } from './media/filename.js';
import { parseShard, parseTarget, parseUsersFile, uniqueTargets, type Shard, type UserRef } from './targets.js';
import { MEDIA_TYPES, Secret, type MediaType } from './types.js';

export { Secret, type UserRef };

export const DEFAULT_API_BASE = 'https://api.agntdata.dev/v1/x';
/** X's media CDN; anything else must be allowed with --allow-host. */
export const DEFAULT_MEDIA_HOSTS = ['pbs.twimg.com', 'video.twimg.com'] as const;

/** The transfer flags, as commander hands them over: times in seconds. */
export interface TransferFlags {
  retries: number;
  timeout: number;
  maxWait: number;
  minRate: number;
  maxFileSize: number;
}

/** How requests and transfers are limited, for every command that downloads. */
export interface TransferLimits {
  retries: number;
  timeoutMs: number;
  maxWaitMs: number;
  /** --min-rate, bytes/s: a body slower than this over --timeout is a stall (0: no minimum). */
  minRate: number;
  /** --max-file-size, bytes: a body announced or counted larger is refused. */
  maxFileSize: number;
}

export function transferLimits(flags: TransferFlags): TransferLimits {
  return { retries: flags.retries, timeoutMs: flags.timeout * 1000, maxWaitMs: flags.maxWait * 1000, minRate: flags.minRate, maxFileSize: flags.maxFileSize };
}

/** Everything a run depends on, read once from flags and environment. */
export interface Config extends TransferLimits {
  /** Every account to archive, each spelling once (the same id by two spellings is merged later). */
  users: readonly UserRef[];
  /** --shard: only the accounts that fall in this shard. */
  shard: Shard | undefined;
  out: string;
  json: boolean;
  concurrency: number;
  pageSize: number;
  maxPages: number | undefined;
  /** --max-cost, in cents. */
  maxCostCents: number | undefined;
  since: Date | undefined;
  until: Date | undefined;
  types: ReadonlySet<MediaType>;
  includeReposts: boolean;
  /** --filename; undefined: `{tweet_id}_{n}.{ext}` for one account, `{account}/…` for several. */
  filename: string | undefined;
  dryRun: boolean;
  full: boolean;
  allowHosts: readonly string[];
  apiBase: string;
  apiKey: Secret;
  quiet: boolean;
  /** --write-metadata: a JSON file per tweet beside its media, named by `metadataFilename`. */
  writeMetadata: boolean;
  metadataFilename: string;
}

/** The main command's flags as commander hands them over (numbers already range-checked). */
export interface ArchiveFlags extends TransferFlags {
  user: string[];
  usersFile?: string;
  shard?: string;
  out: string;
  json?: boolean;
  concurrency: number;
  pageSize: number;
  maxPages?: number;
  maxCost?: number;
  since?: string;
  until?: string;
  types?: string;
  retweets: boolean;
  /** Undefined: the default for one account, or for several. */
  filename?: string;
  dryRun?: boolean;
  full?: boolean;
  allowHost: string[];
  apiBase?: string;
  quiet?: boolean;
  writeMetadata?: boolean;
  /** Given without --write-metadata, it implies it. */
  metadataFilename?: string;
}

export const DEFAULT_METADATA_FILENAME = '{tweet_id}.json';

export type Env = Readonly<Record<string, string | undefined>>;

/** How files named by flags or the environment are read (`-`: standard input). */
export type ReadFile = (file: string) => string;
const readFile: ReadFile = (file) => fs.readFileSync(file === '-' ? 0 : file, 'utf8');

export function parseConfig(flags: ArchiveFlags, env: Env, read: ReadFile = readFile): Config {
  const users = parseUsers(flags, read);
  const out = parseOut(flags.out);
  const key = parseKey(keyOf(env, read));
  const since = flags.since === undefined ? undefined : parseDate('--since', flags.since);
  const until = flags.until === undefined ? undefined : parseDate('--until', flags.until);
  if (since && until && since > until) throw new UsageError(`--since ${flags.since} is after --until ${flags.until}`);
  const filename = flags.filename;
  const templateProblem = filename === undefined ? undefined : checkTemplate(filename);
  if (filename !== undefined && templateProblem) throw new UsageError(`--filename ${JSON.stringify(filename)} ${templateProblem}`);
  const metadataFilename = flags.metadataFilename ?? DEFAULT_METADATA_FILENAME;
  const metadataProblem = checkMetadataTemplate(metadataFilename);
  if (metadataProblem) throw new UsageError(`--metadata-filename ${JSON.stringify(metadataFilename)} ${metadataProblem}`);
  return Object.freeze({
    users,
    shard: flags.shard === undefined ? undefined : parseShard(flags.shard),
    out,
    json: flags.json === true,
    concurrency: flags.concurrency,
    pageSize: flags.pageSize,
    maxPages: flags.maxPages,
    maxCostCents: flags.maxCost === undefined ? undefined : Math.round(flags.maxCost * 100),
    since,
    until,
    types: parseTypes(flags.types),
    includeReposts: flags.retweets,
    filename,
    dryRun: flags.dryRun === true,
    full: flags.full === true,
    allowHosts: [...DEFAULT_MEDIA_HOSTS, ...flags.allowHost.map(checkHost)],
    apiBase: parseApiBase(flags.apiBase ?? env['AGNTDATA_API_BASE'] ?? DEFAULT_API_BASE),
    apiKey: new Secret(key),
    ...transferLimits(flags),
    quiet: flags.quiet === true,
    writeMetadata: flags.writeMetadata === true || flags.metadataFilename !== undefined,
    metadataFilename,
  });
}

/**
 * --filename's rules, and two more: one file per tweet needs `{tweet_id}` in it, and a name
 * ending in `.json` (or `.{ext}`, which is `json` here) can never be a media file's.
 */
function checkMetadataTemplate(template: string): string | undefined {
  const problem = checkTemplate(template);
  if (problem) return problem;
  if (!template.includes('{tweet_id}')) return 'needs {tweet_id}: one file per tweet, e.g. {username}/{tweet_id}.json';
  if (!/\.(json|\{ext\})$/i.test(template)) return 'must end in .json (or .{ext}), so it can never name a media file';
  return undefined;
}

/** --out as an absolute path; an empty one would archive into whatever folder cron starts in. */
export function parseOut(value: string): string {
  if (value.trim() === '') throw new UsageError('--out is empty; name the archive folder, e.g. --out ./media');
  return path.resolve(value);
}

/**
 * The key from the environment, checked: it goes into an HTTP header, where a line break or a
 * character beyond ASCII cannot (a key pasted with its newline, or with a smart quote). The
 * message says what is wrong with it, never what it is.
 */
export function parseKey(value: string | undefined): string {
  const key = value?.trim();
  if (!key) throw new UsageError('AGNTDATA_API_KEY is not set; export your agntdata key (agnt_live_…) and run again');
  const fix = 'copy the key again from your agntdata dashboard';
  if (/[\r\n]/.test(key)) throw new UsageError(`AGNTDATA_API_KEY contains a line break; ${fix}`);
  if (/[^\x00-\x7f]/.test(key)) throw new UsageError(`AGNTDATA_API_KEY contains a non-ASCII character; ${fix}`);
  if (/[\x00-\x1f\x7f]/.test(key)) throw new UsageError(`AGNTDATA_API_KEY contains a control character; ${fix}`);
  return key;
}

/** `--user` (repeatable) and `--users-file`, each spelling once. */
function parseUsers(flags: ArchiveFlags, read: ReadFile): UserRef[] {
  const users = flags.user.map((value) => parseTarget(value));
  if (flags.usersFile !== undefined) {
    const name = flags.usersFile === '-' ? 'standard input' : flags.usersFile;
    users.push(...parseUsersFile(readNamed(read, flags.usersFile, `--users-file ${name}`), name));
  }
  if (users.length === 0) throw new UsageError('missing --user <id|@handle|url>; e.g. --user 96479162 or --user @omarmhaimdat (or --users-file FILE)');
  return uniqueTargets(users);
}

/** AGNTDATA_API_KEY, or the file AGNTDATA_API_KEY_FILE names (Docker secrets, systemd credentials). */
function keyOf(env: Env, read: ReadFile): string | undefined {
  const file = env['AGNTDATA_API_KEY_FILE'];
  if (env['AGNTDATA_API_KEY']?.trim() || !file) return env['AGNTDATA_API_KEY'];
  return readNamed(read, file, `AGNTDATA_API_KEY_FILE ${file}`);
}

function readNamed(read: ReadFile, file: string, what: string): string {
  try {
    return read(file);
  } catch (error) {
    throw new UsageError(`cannot read ${what} (${errnoText(error)}); check the path`);
  }
}

function parseDate(flag: string, value: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!m || !date || date.toISOString().slice(0, 10) !== value) throw new UsageError(`${flag} ${JSON.stringify(value)} is not a date; use YYYY-MM-DD (UTC)`);
  return date;
}

function parseTypes(value: string | undefined): ReadonlySet<MediaType> {
  if (value === undefined) return new Set(MEDIA_TYPES);
  const types = new Set<MediaType>();
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const type = MEDIA_TYPES.find((t) => t === part);
    if (!type) throw new UsageError(`--types: unknown type ${JSON.stringify(part)}; use a comma list of ${MEDIA_TYPES.join(', ')}`);
    types.add(type);
  }
  if (types.size === 0) throw new UsageError(`--types is empty; use a comma list of ${MEDIA_TYPES.join(', ')}`);
  return types;
}

export function checkHost(value: string): string {
  if (!/^([a-z0-9.-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/i.test(value)) {
    throw new UsageError(`--allow-host ${JSON.stringify(value)} is not a host or host:port (e.g. media.example.com:8443)`);
  }
  return value.toLowerCase();
}

function parseApiBase(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--api-base ${JSON.stringify(value)} is not a URL; e.g. ${DEFAULT_API_BASE}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`--api-base must be an http(s) URL, not ${url.protocol}`);
  return url.toString().replace(/\/+$/, '');
}
