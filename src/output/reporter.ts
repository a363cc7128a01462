import type { Ora } from 'ora';
import type { ScanState } from '../types.js';

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

/**
 * Where people see a run: a spinner on a terminal, a few plain lines in cron logs, nothing
 * with --quiet but errors. Chosen once; the core never looks at the terminal itself.
 */
export interface Reporter {
  /** A warning or a long wait: worth a line of its own. */
  notice(message: string): void;
  progress(progress: Progress): void;
  /** Clear the spinner (if any) before the summary or an error is written. */
  stop(): void;
}

export interface ReporterOptions {
  quiet: boolean;
  stream: NodeJS.WriteStream;
  env: Readonly<Record<string, string | undefined>>;
}

/** Async: ora (and its dependencies, ~40 ms of CPU and ~10 MB) loads only for a terminal. */
export async function createReporter(options: ReporterOptions): Promise<Reporter> {
  const { stream } = options;
  if (options.quiet) return { notice: () => undefined, progress: () => undefined, stop: () => undefined };
  if (!stream.isTTY || options.env['TERM'] === 'dumb') {
    return { notice: (message) => stream.write(`x-media-dump: ${message}\n`), progress: () => undefined, stop: () => undefined };
  }
  // https://no-color.org: any non-empty NO_COLOR turns color off; FORCE_COLOR=0 does too.
  const color = !options.env['NO_COLOR'] && options.env['FORCE_COLOR'] !== '0' && options.env['FORCE_COLOR'] !== 'false';
  const { default: ora } = await import('ora');
  return new SpinnerReporter(ora, stream, color);
}

class SpinnerReporter implements Reporter {
  private readonly spinner: Ora;
  private readonly started = Date.now();
  constructor(
    ora: typeof import('ora').default,
    private readonly stream: NodeJS.WriteStream,
    color: boolean,
  ) {
    // isEnabled: the TTY check is ours (made once, above); ora would also go quiet whenever CI is set.
    this.spinner = ora({ stream, text: 'starting…', discardStdin: false, isEnabled: true, ...(color ? {} : { color: false }) }).start();
  }
  notice(message: string): void {
    this.spinner.clear();
    this.stream.write(`x-media-dump: ${message}\n`);
    this.spinner.render();
  }
  progress(p: Progress): void {
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    this.spinner.text =
      `${p.pages} pages · ${p.found} media · ${p.downloaded} saved, ${p.exists} archived, ${p.skipped} skipped, ${p.failed} failed · ` +
      `${formatBytes(p.bytes)} at ${formatBytes(p.bytes / seconds)}/s · ${formatDollars(p.cents)}`;
  }
  stop(): void {
    this.spinner.stop();
  }
}

export interface SummaryFacts {
  progress: Progress;
  requests: number;
  cents: number;
  scan: ScanState | undefined;
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
  if (facts.scan) lines.push(`history: ${facts.scan.complete ? 'complete' : `${facts.scan.pages} page${facts.scan.pages === 1 ? '' : 's'} fetched, more remain`}`);
  for (const f of facts.failures.slice(0, 20)) lines.push(`failed: ${f.media_key ?? '?'} (tweet ${f.tweet_id ?? '?'}): ${f.reason ?? 'unknown'}`);
  if (facts.failures.length > 20) lines.push(`failed: … and ${facts.failures.length - 20} more (see --json)`);
  return `${lines.join('\n')}\n`;
}

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
