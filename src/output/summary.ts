import type { ScanState, StopReason } from '../types.js';

/** Counts the run keeps as it goes; the progress line shows them, the summary closes with them. */
export interface Progress {
  pages: number;
  found: number;
  downloaded: number;
  exists: number;
  planned: number;
  skipped: number;
  failed: number;
  bytes: number;
  cents: number;
  /** Paging has ended: `found` is final, so the progress line can say n/total and an ETA. */
  pagingDone: boolean;
}

export function emptyProgress(): Progress {
  return { pages: 0, found: 0, downloaded: 0, exists: 0, planned: 0, skipped: 0, failed: 0, bytes: 0, cents: 0, pagingDone: false };
}

/** What the summary is written from; a line per account or per anything else is a field away. */
export interface SummaryFacts {
  progress: Progress;
  /** Requests the API answered and billed. */
  requests: number;
  /** Requests the API refused (401, 402, 403; 404 for an unknown user): made, but not billed. */
  refused: number;
  cents: number;
  /** Files the archive holds once the run is over: the ones saved now and the ones from before. */
  onDisk: number;
  scan: ScanState | undefined;
  stop: StopReason | undefined;
  /** Media discovered that this run's filters want but that are not on disk yet. */
  waiting: number;
  dryRun: boolean;
  failures: readonly { media_key?: string; tweet_id?: string; reason?: string }[];
  /** A line each when `perAccount` (a run given several accounts, even if its shard left it one). */
  accounts?: readonly AccountFacts[];
  perAccount?: boolean;
}

/** One account's part of a run. */
export interface AccountFacts {
  name: string;
  scan: ScanState | undefined;
  stop: StopReason | undefined;
  error: { message: string } | undefined;
  requests: number;
  downloaded: number;
}

/** `1 file`, `2 files`. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * The closing lines on stderr: what is on disk and what it cost, where history stands, why paging
 * stopped. Failed items are not listed here: they are printed as they fail (formatFailures lists
 * them for --quiet).
 */
export function formatSummary(facts: SummaryFacts): string {
  const p = facts.progress;
  const lines: string[] = [];
  const skippedFailed = `${p.skipped} skipped, ${p.failed} failed`;
  if (facts.dryRun) {
    // The API gives no file sizes, and asking the CDN for each would cost a request per file.
    lines.push(`dry run: ${plural(p.planned, 'file')} to download (sizes unknown: the API does not tell them), ${facts.onDisk} on disk already · ${skippedFailed} · ${costOf(facts)}`);
    lines.push('pages fetched here are remembered: the real run pays only for pages not fetched yet');
  } else {
    // Counts that add up to the folder: what this run saved plus what earlier runs had.
    const before = Math.max(0, facts.onDisk - p.downloaded);
    lines.push(`${plural(facts.onDisk, 'file')} on disk: ${p.downloaded} new${p.downloaded > 0 ? ` (${formatBytes(p.bytes)})` : ''}, ${before} already archived · ${skippedFailed} · ${costOf(facts)}`);
  }
  const accounts = facts.accounts ?? [];
  const stopped = facts.stop ? `stopped: ${STOP_TEXT[facts.stop]}` : undefined;
  if (facts.perAccount || accounts.length > 1) for (const account of accounts) lines.push(accountLine(account));
  else if (facts.scan) lines.push(`history: ${historyLine(facts.scan, facts.stop)}`);
  else if (stopped) lines.push(stopped);
  if (!facts.dryRun && facts.waiting > 0) {
    lines.push(`waiting: ${facts.waiting} media found but not on disk yet; the next run fetches them without paying for their pages again`);
  }
  return `${lines.join('\n')}\n`;
}

/** `@name: 3 new files · 2 requests · history: … · stopped: …`, or why the account failed. */
function accountLine(account: AccountFacts): string {
  const counts = `${plural(account.downloaded, 'new file')} · ${plural(account.requests, 'request')}`;
  if (account.error) return `${account.name}: ${counts} · failed: ${account.error.message}`;
  return `${account.name}: ${counts} · history: ${account.scan ? historyLine(account.scan, account.stop) : 'not paged'}`;
}

function historyLine(scan: ScanState, stop: StopReason | undefined): string {
  return `${historyOf(scan, stop)}${stop ? ` · stopped: ${STOP_TEXT[stop]}` : ''}`;
}

/** One line per failed item (the first ones kept), and how many more; empty when none failed. */
export function formatFailures(facts: Pick<SummaryFacts, 'progress' | 'failures'>): string {
  const lines = facts.failures.map(failureLine);
  const more = facts.progress.failed - facts.failures.length;
  if (more > 0) lines.push(`failed: … and ${more} more (see --json)`);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** `failed: <media_key> (tweet <id>): <reason>`, as printed when the item fails and in --quiet's list. */
export function failureLine(f: { media_key?: string; tweet_id?: string; reason?: string }): string {
  return `failed: ${f.media_key ?? '?'} (tweet ${f.tweet_id ?? '?'}): ${f.reason ?? 'unknown'}`;
}

/** `3 API requests, $0.03`; a refused request is counted, and said to be free. */
function costOf(facts: Pick<SummaryFacts, 'requests' | 'refused' | 'cents'>): string {
  const made = facts.requests + facts.refused;
  let refused = '';
  if (facts.refused > 0) refused = made === facts.refused ? ` (refused, not billed)` : ` (${facts.refused} refused, not billed)`;
  return `${plural(made, 'API request')}${refused}, ${formatDollars(facts.cents)}`;
}

/** `complete` only when the end was reached and nothing between is still owed. */
function historyOf(scan: ScanState, stop: StopReason | undefined): string {
  if (scan.complete && scan.gaps.length === 0) return stop === 'interrupted' ? 'all pages fetched; interrupted before every file was saved' : 'complete';
  const owed: string[] = [];
  const between = scan.gaps.filter((gap) => gap.floor !== undefined).length;
  if (between > 0) owed.push(`${plural(between, 'gap')} between archived tweets`);
  if (!scan.complete) {
    const estimate = pagesToTheEnd(scan);
    owed.push(scan.pages === 0 ? 'all of it' : `the backfill${estimate === undefined ? '' : ` (~${plural(estimate, 'page')} to the end)`}`);
  }
  const pages = `${plural(scan.pages, 'page')} fetched`;
  return owed.length === 0 ? `${pages}; paging was cut short, the next run checks again` : `${pages}, more remain: ${owed.join(' and ')}`;
}

/**
 * The backfill's pages still to go, at the pace paging has kept so far: the time from the head
 * down to where the backfill stands took `pages`; the rest runs down to the account's creation.
 */
function pagesToTheEnd(scan: ScanState): number | undefined {
  const backfill = scan.gaps.find((gap) => gap.floor === undefined);
  if (!backfill?.notAfter || !scan.headTime || !scan.accountCreated || scan.pages === 0) return undefined;
  const reached = Date.parse(backfill.notAfter);
  const covered = Date.parse(scan.headTime) - reached;
  const left = reached - Date.parse(scan.accountCreated);
  if (!(covered > 0) || !(left >= 0)) return undefined;
  return Math.max(1, Math.ceil((scan.pages * left) / covered));
}

const STOP_TEXT: Record<StopReason, string> = {
  'caught-up': 'reached the archived head',
  'history-complete': 'end of history',
  since: 'reached --since',
  'max-pages': '--max-pages',
  'max-cost': '--max-cost',
  'no-such-user': 'no such user',
  'token-loop': 'the API repeated a continuation token',
  'no-progress': 'pages brought nothing new',
  interrupted: 'interrupted',
  'out-of-credits': 'out of credits',
  'key-rejected': 'API key rejected',
  'rate-limited': 'rate-limited',
  'api-failed': 'the API kept failing',
  'unreadable-page': 'unreadable API response',
  'archive-unwritable': 'the archive could not be written',
};

export function formatDollars(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
