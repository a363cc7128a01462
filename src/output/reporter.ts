import type { Ora } from 'ora';
import type { ApiRequestEvent, ItemRecord } from '../types.js';
import { progressLine, RateMeter, formatDuration } from './progress.js';
import { failureLine, type Progress } from './summary.js';
import { escapeControls } from './terminal.js';
import { requestLine, savedLine } from './verbose.js';

/**
 * Where people see a run: a spinner line on a terminal, a plain progress line every 30 s in cron
 * logs, nothing with --quiet but errors. Chosen once; the core never looks at the terminal.
 */
export interface Reporter {
  /** A warning or a long wait: worth a line of its own. */
  notice(message: string): void;
  /** The run's live counts: one object, updated in place, which the progress line is drawn from. */
  progress(progress: Progress): void;
  /** Each item's record once it is final: a failure gets its line at once; with -v, each file saved. */
  item(record: ItemRecord): void;
  /** Each API request (shown with -v). */
  request(event: ApiRequestEvent): void;
  /** A line of its own on stderr (the -v header). */
  line(text: string): void;
  /** Clear the spinner (if any) and stop the timers, before the summary or an error is written. */
  stop(): void;
}

export interface ReporterOptions {
  quiet: boolean;
  verbose: boolean;
  /** false for --no-color; NO_COLOR and FORCE_COLOR=0 in `env` turn color off too. */
  color: boolean;
  stream: NodeJS.WriteStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Without a terminal: a progress line at most this often. 30 s unless a test says otherwise. */
  plainEveryMs?: number;
  now?: () => number;
}

const PLAIN_EVERY_MS = 30_000;
/** How often the spinner's text is redrawn from the counts (ora animates the frame itself). */
const SPINNER_EVERY_MS = 200;

/** Async: ora and its dependencies (their start-up cost is in bench/README.md) load only for a terminal. */
export async function createReporter(options: ReporterOptions): Promise<Reporter> {
  const { stream, verbose } = options;
  const now = options.now ?? Date.now;
  if (options.quiet) return new StreamReporter(new PlainDisplay(stream, now), { verbose, chatty: false, everyMs: undefined, now });
  if (!stream.isTTY || options.env['TERM'] === 'dumb') {
    return new StreamReporter(new PlainDisplay(stream, now), { verbose, chatty: true, everyMs: options.plainEveryMs ?? PLAIN_EVERY_MS, now });
  }
  // https://no-color.org: any non-empty NO_COLOR turns color off; FORCE_COLOR=0 does too.
  const { env } = options;
  const color = options.color && !env['NO_COLOR'] && env['FORCE_COLOR'] !== '0' && env['FORCE_COLOR'] !== 'false';
  const { default: ora } = await import('ora');
  return new StreamReporter(new SpinnerDisplay(ora, stream, color), { verbose, chatty: true, everyMs: SPINNER_EVERY_MS, now });
}

/** For the library: nothing printed, everything handed to the caller's callbacks. */
export function callbackReporter(callbacks: { onNotice?: (message: string) => void; onRequest?: (event: ApiRequestEvent) => void; onProgress?: (progress: Readonly<Progress>) => void }): Reporter {
  return {
    notice: (message) => callbacks.onNotice?.(message),
    progress: (progress) => callbacks.onProgress?.(progress),
    item: () => undefined,
    request: (event) => callbacks.onRequest?.(event),
    line: () => undefined,
    stop: () => undefined,
  };
}

/** How lines reach the stream: between spinner frames, or plainly. */
interface Display {
  line(text: string): void;
  /** The progress line: the spinner's text, or a timestamped line of its own. */
  status(text: string): void;
  stop(): void;
}

class StreamReporter implements Reporter {
  private counts: Progress | undefined;
  /** What the API has billed so far, from the requests: the counts catch up only as items end. */
  private billed = 0;
  private readonly meter: RateMeter;
  private readonly timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** `chatty`: notices, failures and progress are shown (not --quiet). */
  constructor(
    private readonly display: Display,
    private readonly options: { verbose: boolean; chatty: boolean; everyMs: number | undefined; now: () => number },
  ) {
    this.meter = new RateMeter(options.now);
    if (options.everyMs !== undefined) {
      this.timer = setInterval(() => this.redraw(), options.everyMs);
      this.timer.unref();
    }
  }

  notice(message: string): void {
    if (this.options.chatty) this.line(`x-media-dump: ${message}`);
  }
  progress(progress: Progress): void {
    this.counts = progress;
  }
  item(record: ItemRecord): void {
    if (record.status === 'failed' && this.options.chatty) this.line(failureLine(record));
    if (record.status === 'downloaded' && this.options.verbose) this.line(savedLine(record));
  }
  request(event: ApiRequestEvent): void {
    this.billed += event.cents;
    if (this.options.verbose) this.line(requestLine(event));
  }
  line(text: string): void {
    if (!this.stopped) this.display.line(escapeControls(text));
  }
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.display.stop();
  }

  private redraw(): void {
    if (this.counts === undefined || this.stopped) return;
    const counts = { ...this.counts, cents: Math.max(this.counts.cents, this.billed) };
    this.display.status(progressLine(counts, this.meter.sample(counts.bytes)));
  }
}

class PlainDisplay implements Display {
  private readonly started: number;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly now: () => number,
  ) {
    this.started = now();
  }
  line(text: string): void {
    this.stream.write(`${text}\n`);
  }
  status(text: string): void {
    this.stream.write(`x-media-dump: [${formatDuration(this.now() - this.started)}] ${text}\n`);
  }
  stop(): void {}
}

class SpinnerDisplay implements Display {
  private readonly spinner: Ora;
  constructor(
    ora: typeof import('ora').default,
    private readonly stream: NodeJS.WriteStream,
    color: boolean,
  ) {
    // isEnabled: the TTY check is ours (made once, above); ora would also go quiet whenever CI is set.
    this.spinner = ora({ stream, text: 'starting…', discardStdin: false, isEnabled: true, ...(color ? {} : { color: false }) }).start();
  }
  line(text: string): void {
    this.spinner.clear();
    this.stream.write(`${text}\n`);
    this.spinner.render();
  }
  status(text: string): void {
    this.spinner.text = text;
  }
  stop(): void {
    this.spinner.stop();
  }
}
