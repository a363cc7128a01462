import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { LIMITS } from './defaults.js';
import { errnoText, UsageError } from './errors.js';
import { MEDIA_TYPES } from './types.js';

/**
 * The config file: defaults for any flag of the main command, and a `users` list, in JSON.
 * `$XDG_CONFIG_HOME/x-media-dump/config.json` (`~/.config/…`; `%APPDATA%\x-media-dump\config.json`
 * on Windows), or `--config FILE`; `--no-config` ignores it. Flags given on the command line win.
 * The API key is never read from it (AGNTDATA_API_KEY or AGNTDATA_API_KEY_FILE). Keys are the
 * flags' names in camelCase; `schemas/config.schema.json` is generated from this schema.
 */

const whole = ([min, max]: readonly [number, number], what: string) => z.int().min(min).max(max).describe(what);
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

export const SettingsSchema = z
  .strictObject({
    $schema: z.string().optional().describe('The JSON Schema of this file, for editors'),
    users: z.array(z.string()).optional().describe('Accounts to archive: numeric ids, @handles or profile URLs (--user, --users-file)'),
    out: z.string().optional().describe('Archive folder (--out)'),
    json: z.boolean().optional().describe('NDJSON records on stdout (--json)'),
    concurrency: whole(LIMITS.concurrency, 'Parallel downloads (--concurrency)').optional(),
    pageSize: whole(LIMITS.pageSize, 'Tweets per API request (--page-size)').optional(),
    maxPages: whole(LIMITS.maxPages, 'At most this many API requests a run (--max-pages)').optional(),
    maxCost: z.number().positive().describe('At most this many US dollars a run (--max-cost)').optional(),
    since: date.optional().describe('Ignore tweets older than this UTC date (--since)'),
    until: date.optional().describe('Ignore tweets newer than this UTC date (--until)'),
    types: z.array(z.enum(MEDIA_TYPES)).min(1).optional().describe('Media types to archive (--types)'),
    retweets: z.boolean().optional().describe('Archive media the user reposted or quoted (false: --no-retweets)'),
    filename: z.string().optional().describe('File name template (--filename)'),
    dryRun: z.boolean().optional().describe('Page and plan, download nothing (--dry-run)'),
    full: z.boolean().optional().describe('Page past archived tweets to the end (--full)'),
    allowHost: z.array(z.string()).optional().describe('More media hosts to fetch from (--allow-host)'),
    apiBase: z.string().optional().describe('API base URL (--api-base)'),
    retries: whole(LIMITS.retries, 'Retries of a failed request or transfer (--retries)').optional(),
    timeout: whole(LIMITS.timeout, 'Idle timeout in seconds (--timeout)').optional(),
    maxWait: whole(LIMITS.maxWait, 'Seconds a run may wait on rate limits (--max-wait)').optional(),
    minRate: whole(LIMITS.minRate, 'Slowest transfer in bytes/s before it is a stall (--min-rate)').optional(),
    maxFileSize: whole(LIMITS.maxFileSize, 'Largest file in bytes (--max-file-size)').optional(),
    quiet: z.boolean().optional().describe('No progress and no summary (--quiet)'),
    shard: z.string().regex(/^\d+\/\d+$/, 'expected K/N').optional().describe('Archive only shard K of N of the accounts (--shard)'),
  })
  .describe('x-media-dump config file');
export type Settings = z.infer<typeof SettingsSchema>;

/** The config file to read: `--config`, else the default place if it exists there; undefined for none. */
function settingsPath(explicit: string | false | undefined, env: Readonly<Record<string, string | undefined>>, platform = process.platform): string | undefined {
  if (explicit === false) return undefined;
  if (typeof explicit === 'string') return path.resolve(explicit);
  const base = platform === 'win32' ? env['APPDATA'] : env['XDG_CONFIG_HOME'] || path.join(env['HOME'] ?? os.homedir(), '.config');
  return base ? path.join(base, 'x-media-dump', 'config.json') : undefined;
}

/** The file's text → settings; one line naming the file and the key when something is wrong. */
function parseSettings(text: string, file: string): Settings {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON (${error instanceof Error ? error.message : String(error)}); fix it or run with --no-config`);
  }
  const parsed = SettingsSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const hint = /key|token|secret/i.test(key) ? ' (the API key is never read from the config file: use AGNTDATA_API_KEY or AGNTDATA_API_KEY_FILE)' : '';
    throw new UsageError(`${file}: unknown key ${JSON.stringify(key)}${hint}; see schemas/config.schema.json for the keys`);
  }
  const where = issue?.path.map(String).join('.') || '(the whole file)';
  throw new UsageError(`${file}: ${where}: ${issue?.message ?? 'invalid'}; fix it or run with --no-config`);
}

/**
 * Flags with the settings' values where the command line gave none: `sourceOf(key)` is where
 * commander took a flag's value from ('cli', 'env', 'default' or undefined).
 */
function mergeSettings<F extends { user: string[]; usersFile?: string | undefined }>(flags: F, settings: Settings, sourceOf: (key: string) => string | undefined): F {
  const merged: Record<string, unknown> = { ...flags };
  for (const [key, value] of Object.entries(settings)) {
    if (key === '$schema' || value === undefined) continue;
    if (key === 'users') {
      if (flags.user.length === 0 && flags.usersFile === undefined) merged['user'] = value;
      continue;
    }
    const source = sourceOf(key);
    if (source === 'cli' || source === 'env') continue;
    merged[key] = key === 'types' && Array.isArray(value) ? value.join(',') : value;
  }
  return merged as F;
}

/**
 * The config file's values for every flag not given on the command line (`sourceOf(key)`: where
 * commander took a flag's value from); its `users` only when no --user or --users-file is given.
 */
export function withSettings<F extends { user: string[]; usersFile?: string | undefined; config?: string | false }>(
  flags: F,
  sourceOf: (key: string) => string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): F {
  const file = settingsPath(flags.config, env);
  if (file === undefined) return flags;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // The default place may well have no file; one named with --config must exist.
    if (code === 'ENOENT' && typeof flags.config !== 'string') return flags;
    throw new UsageError(`cannot read the config file ${file} (${errnoText(error)}); check --config`);
  }
  return mergeSettings(flags, parseSettings(text, file), sourceOf);
}
