import type { ScanState, StopReason } from '../types.js';

/** Counts the run keeps as it goes; the spinner shows them, the summary closes with them. */
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
}

export function emptyProgress(): Progress {
  return { pages: 0, found: 0, downloaded: 0, exists: 0, planned: 0, skipped: 0, failed: 0, bytes: 0, cents: 0 };
}

export interface SummaryFacts {
  progress: Progress;
  requests: number;
  cents: number;
  scan: ScanState | undefined;
  stop: StopReason | undefined;
  dryRun: boolean;
  failures: readonly { media_key?: string; tweet_id?: string; reason?: string }[];
}

/** The closing lines on stderr: what was saved, what it cost, where history stands. */
export function formatSummary(facts: SummaryFacts): string {
  const p = facts.progress;
  const lines: string[] = [];
  const cost = `${facts.requests} API request${facts.requests === 1 ? '' : 's'}, ${formatDollars(facts.cents)}`;
  if (facts.dryRun) {
    // The API gives no file sizes, and asking the CDN for each would cost a request per file.
    lines.push(`dry run: ${p.planned} files to download (sizes unknown: the API does not tell them), ${p.exists} already archived, ${p.skipped} skipped · ${cost}`);
    lines.push('pages fetched here are remembered: the real run pays only for pages not fetched yet');
  } else {
    lines.push(`saved ${p.downloaded} file${p.downloaded === 1 ? '' : 's'} (${formatBytes(p.bytes)}), ${p.exists} already archived, ${p.skipped} skipped, ${p.failed} failed · ${cost}`);
  }
  if (facts.scan) {
    const history = facts.scan.complete ? 'complete' : `${facts.scan.pages} page${facts.scan.pages === 1 ? '' : 's'} fetched, more remain`;
    lines.push(`history: ${history}${facts.stop ? ` · stopped: ${STOP_TEXT[facts.stop]}` : ''}`);
  }
  for (const f of facts.failures.slice(0, 20)) lines.push(`failed: ${f.media_key ?? '?'} (tweet ${f.tweet_id ?? '?'}): ${f.reason ?? 'unknown'}`);
  if (facts.failures.length > 20) lines.push(`failed: … and ${facts.failures.length - 20} more (see --json)`);
  return `${lines.join('\n')}\n`;
}

const STOP_TEXT: Record<StopReason, string> = {
  'caught-up': 'reached the archived head',
  'history-complete': 'end of history',
  since: 'reached --since',
  'max-pages': '--max-pages',
  'token-loop': 'the API repeated a continuation token',
  interrupted: 'interrupted',
  'out-of-credits': 'out of credits',
  'key-rejected': 'API key rejected',
  'rate-limited': 'rate-limited',
  'api-failed': 'the API kept failing',
  'unreadable-page': 'unreadable API response',
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
