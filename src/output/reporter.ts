import type { Ora } from 'ora';
import { formatBytes, formatDollars, type Progress } from './summary.js';
import { escapeControls } from './terminal.js';

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

/** Async: ora and its dependencies (their start-up cost is in bench/README.md) load only for a terminal. */
export async function createReporter(options: ReporterOptions): Promise<Reporter> {
  const { stream } = options;
  if (options.quiet) return { notice: () => undefined, progress: () => undefined, stop: () => undefined };
  if (!stream.isTTY || options.env['TERM'] === 'dumb') {
    return { notice: (message) => stream.write(`x-media-dump: ${escapeControls(message)}\n`), progress: () => undefined, stop: () => undefined };
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
    this.stream.write(`x-media-dump: ${escapeControls(message)}\n`);
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
