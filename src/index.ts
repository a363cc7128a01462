/**
 * x-media-dump as a library: the command line's three jobs as promises, printing nothing.
 *
 * ```js
 * import { archive, exportRecords, verify } from 'x-media-dump';
 * const result = await archive({ user: '96479162', out: './media' });
 * ```
 *
 * Defaults are the command line's (see README.md). The key, the API base and extra media hosts
 * are read from `env` (process.env unless given) when not passed: `AGNTDATA_API_KEY`,
 * `AGNTDATA_API_BASE`, `X_MEDIA_DUMP_ALLOW_HOST`. A bad option rejects with a `UsageError`;
 * what goes wrong during a run (the API refusing, a file failing) is in the result instead.
 */
import { checkHost, DEFAULT_MEDIA_HOSTS, parseConfig, parseOut, transferLimits, type Env } from './config.js';
import { ALLOW_HOST_ENV, DEFAULTS, LIMITS } from './defaults.js';
import { UsageError, type XmdError } from './errors.js';
import { exportRecords as readRecords } from './export.js';
import { verifyRecord, type VerifyRecord } from './output/records.js';
import { callbackReporter } from './output/reporter.js';
import type { Progress } from './output/summary.js';
import { exitCodeOf, runArchive, type AccountResult } from './run.js';
import type { ApiRequestEvent, ItemRecord, MediaType, StopReason } from './types.js';
import { verifyArchive, verifyExitCode, type FileOutcome } from './verify.js';

export { ApiAuthError, ApiCreditsError, ApiFailedError, ArchiveWriteError, ExitCode, InterruptedError, LockedError, PayloadError, RateLimitedError, UsageError, XmdError } from './errors.js';
export type { AccountResult, ApiRequestEvent, ItemRecord, MediaType, Progress, StopReason, VerifyRecord };

/** What archive, verify and a download share: the transfer settings, each defaulting as on the command line. */
export interface TransferOptions {
  /** Archive folder (created by `archive` if missing). Default `./media`, from the current directory. */
  out?: string;
  /** Media hosts to fetch from beyond pbs.twimg.com and video.twimg.com. Default: `X_MEDIA_DUMP_ALLOW_HOST` (a comma list). */
  allowHosts?: string[];
  /** Parallel downloads, 1-64. Default 8. */
  concurrency?: number;
  /** Retries for a request or transfer that failed transiently. Default 5. */
  retries?: number;
  /** Idle timeout of one request or transfer, in seconds. Default 30. */
  timeoutSeconds?: number;
  /** Total time to wait on rate limits, in seconds. Default 600. */
  maxWaitSeconds?: number;
  /** Bytes per second below which a transfer is a stall (0: none). Default 1024. */
  minRate?: number;
  /** Largest file accepted, in bytes. Default 4 GiB. */
  maxFileSize?: number;
  /** Stops the job; it saves its state and resolves with exit code 130. */
  signal?: AbortSignal;
  /** Warnings and long waits, one line each; nothing is printed. */
  onNotice?: (message: string) => void;
  /** Where unset options are read from. Default `process.env`. */
  env?: Env;
}

export interface ArchiveOptions extends TransferOptions {
  /** An account, or several: numeric X user ids (digits, as strings), `@handle`s or profile URLs. */
  user: string | string[];
  /** Default: `AGNTDATA_API_KEY` from `env`. */
  apiKey?: string;
  /** Default: `AGNTDATA_API_BASE` from `env`, else https://api.agntdata.dev/v1/x. */
  apiBase?: string;
  /** Tweets per API request, 1-100. Default 20. */
  pageSize?: number;
  /** At most this many API requests ($0.01 each), across all accounts. Default: no limit. */
  maxPages?: number;
  /** At most this many US dollars this run, across all accounts. Default: no limit. */
  maxCost?: number;
  /** `YYYY-MM-DD` (UTC): leave out older tweets and stop paging past them. */
  since?: string;
  /** `YYYY-MM-DD` (UTC): leave out newer tweets. */
  until?: string;
  /** Default: all three. */
  types?: MediaType[];
  /** Media the user reposted or quoted. Default true. */
  retweets?: boolean;
  /** File name template. Default `{tweet_id}_{n}.{ext}`; `{account}/{tweet_id}_{n}.{ext}` for several accounts. */
  filename?: string;
  /** Page and plan, download nothing. */
  dryRun?: boolean;
  /** Page past already-archived tweets to the end of history. */
  full?: boolean;
  /** Each media item's NDJSON record, as `--json` prints it. */
  onRecord?: (record: ItemRecord) => void;
  /** Each API request, as `-v` shows it. */
  onRequest?: (event: ApiRequestEvent) => void;
  /** The live counts (one object, updated in place) as the run goes. */
  onProgress?: (progress: Readonly<Progress>) => void;
}

export interface ArchiveResult {
  /** What the command line would exit with: 0, 1 (some items failed), 3 (API refused), 4 (API failing), 130 (stopped). */
  exitCode: number;
  /** What ended paging early (an ApiAuthError, ApiCreditsError, …); files found were still saved. */
  error: XmdError | undefined;
  /** Files the archive holds now: `downloaded` this run plus those from before. */
  onDisk: number;
  downloaded: number;
  /** Bytes downloaded this run. */
  bytes: number;
  skipped: number;
  failed: number;
  /** Dry run: files that would be downloaded. */
  planned: number;
  /** API requests made (billed ones and refused ones) and what they cost. */
  requests: number;
  refused: number;
  cents: number;
  stop: StopReason | undefined;
  /** Every page of every account's history has been fetched. */
  historyComplete: boolean;
  /** Each account: its name as given, id, files saved, requests, and why its paging stopped or failed. */
  accounts: AccountResult[];
  /** The first failed items' records. */
  failures: ItemRecord[];
}

/** Archive one account or several into `out`: what the command line's main job does, printing nothing. */
export async function archive(options: ArchiveOptions): Promise<ArchiveResult> {
  const env = options.env ?? process.env;
  const config = parseConfig(
    {
      user: Array.isArray(options.user) ? options.user : [options.user],
      out: options.out ?? DEFAULTS.out,
      concurrency: inRange('concurrency', options.concurrency ?? DEFAULTS.concurrency, LIMITS.concurrency),
      pageSize: inRange('pageSize', options.pageSize ?? DEFAULTS.pageSize, LIMITS.pageSize),
      ...(options.maxPages === undefined ? {} : { maxPages: inRange('maxPages', options.maxPages, LIMITS.maxPages) }),
      ...(options.maxCost === undefined ? {} : { maxCost: positive('maxCost', options.maxCost) }),
      ...(options.since === undefined ? {} : { since: options.since }),
      ...(options.until === undefined ? {} : { until: options.until }),
      types: (options.types ?? DEFAULTS.types.split(',')).join(','),
      retweets: options.retweets ?? true,
      ...(options.filename === undefined ? {} : { filename: options.filename }),
      dryRun: options.dryRun === true,
      full: options.full === true,
      allowHost: allowHostsOf(options, env),
      ...(options.apiBase === undefined ? {} : { apiBase: options.apiBase }),
      ...transferOf(options),
      quiet: true,
    },
    { ...env, ...(options.apiKey === undefined ? {} : { AGNTDATA_API_KEY: options.apiKey }) },
  );
  const reporter = callbackReporter(options);
  const signal = options.signal ?? new AbortController().signal;
  const result = await runArchive(config, { reporter, signal, emit: options.onRecord ?? (() => undefined) });
  const p = result.progress;
  return {
    exitCode: exitCodeOf(result),
    error: result.error,
    onDisk: result.onDisk,
    downloaded: p.downloaded,
    bytes: p.bytes,
    skipped: p.skipped,
    failed: p.failed,
    planned: p.planned,
    requests: result.requests + result.refused,
    refused: result.refused,
    cents: result.cents,
    stop: result.stop,
    historyComplete: result.accounts.length > 0 && result.accounts.every((a) => a.scan?.complete === true && a.scan.gaps.length === 0),
    accounts: result.accounts,
    failures: result.failures,
  };
}

/** The archive's media records (`exists` with their file, `planned` when not saved yet), as `export` prints them. No API, no key. */
export async function* exportRecords(options: { out?: string; onNotice?: (message: string) => void } = {}): AsyncGenerator<ItemRecord> {
  yield* readRecords(parseOut(options.out ?? DEFAULTS.out), options.onNotice);
}

export interface VerifyOptions extends TransferOptions {
  /** Download missing or corrupt files again, from the URLs the archive holds (no API request). */
  repair?: boolean;
  /** Each file's record once checked, as `verify --json` prints it. */
  onFile?: (record: VerifyRecord) => void;
}

export interface VerifyResult {
  /** 0: every file intact (or repaired); 1: some missing or corrupt; 130: stopped. */
  exitCode: number;
  checked: number;
  intact: number;
  repaired: number;
  /** Records of the files that are not intact (repaired ones included). */
  bad: VerifyRecord[];
}

/** Re-hash every archived file against the archive; `repair` fetches the bad ones again. */
export async function verify(options: VerifyOptions = {}): Promise<VerifyResult> {
  const env = options.env ?? process.env;
  const signal = options.signal ?? new AbortController().signal;
  const result = await verifyArchive({
    out: parseOut(options.out ?? DEFAULTS.out),
    repair: options.repair === true,
    allowHosts: [...DEFAULT_MEDIA_HOSTS, ...allowHostsOf(options, env).map(checkHost)],
    concurrency: inRange('concurrency', options.concurrency ?? DEFAULTS.concurrency, LIMITS.concurrency),
    ...transferLimits(transferOf(options)),
    signal,
    notice: options.onNotice ?? (() => undefined),
    ...(options.onFile ? { onFile: (outcome: FileOutcome) => options.onFile?.(verifyRecord(outcome)) } : {}),
  });
  const { checked, intact, repaired } = result;
  return { exitCode: verifyExitCode(result, signal.aborted), checked, intact, repaired, bad: result.bad.map(verifyRecord) };
}

function transferOf(options: TransferOptions) {
  return {
    retries: inRange('retries', options.retries ?? DEFAULTS.retries, LIMITS.retries),
    timeout: inRange('timeoutSeconds', options.timeoutSeconds ?? DEFAULTS.timeout, LIMITS.timeout),
    maxWait: inRange('maxWaitSeconds', options.maxWaitSeconds ?? DEFAULTS.maxWait, LIMITS.maxWait),
    minRate: inRange('minRate', options.minRate ?? DEFAULTS.minRate, LIMITS.minRate),
    maxFileSize: inRange('maxFileSize', options.maxFileSize ?? DEFAULTS.maxFileSize, LIMITS.maxFileSize),
  };
}

function allowHostsOf(options: TransferOptions, env: Env): string[] {
  return options.allowHosts ?? (env[ALLOW_HOST_ENV] ?? '').split(',').map((host) => host.trim()).filter(Boolean);
}

/** The same ranges the command line's flags check. */
function inRange(name: string, value: number, [min, max]: readonly [number, number]): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  return value;
}

/** --max-cost's rule: an amount of US dollars above zero. */
function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${name} must be an amount of US dollars above 0, not ${value}`);
  return value;
}
