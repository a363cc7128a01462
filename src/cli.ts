import fs from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { checkHost, DEFAULT_API_BASE, DEFAULT_METADATA_FILENAME, parseConfig, parseOut, type ArchiveFlags } from './config.js';
import { ExitCode, InterruptedError, UsageError, XmdError } from './errors.js';
import { DEFAULT_FILENAME, DEFAULT_MULTI_FILENAME } from './media/filename.js';
import { mergeSettings, parseSettings, settingsPath } from './settings.js';
import { escapeControls } from './output/terminal.js';
import type { ItemRecord } from './types.js';

/**
 * The edge: flags in, exit code out. The only module that reads process.argv, writes to the
 * terminal, handles signals or sets process.exitCode. The heavy modules load only when a
 * command runs, so `--help` and `--version` start fast.
 */

const version = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const apiKey = process.env['AGNTDATA_API_KEY']?.trim();
const debug = /(^|,)\s*(x-media-dump|\*)\s*(,|$)/.test(process.env['DEBUG'] ?? '');

/**
 * Belt and braces: whatever reaches the terminal passes through here, and the key never does;
 * nor do terminal controls or bidi overrides from the API's text (see output/terminal.ts).
 */
function redact(text: string): string {
  return escapeControls(apiKey && apiKey.length >= 4 ? text.split(apiKey).join('[redacted]') : text);
}

function say(text: string): void {
  process.stderr.write(redact(text.endsWith('\n') ? text : `${text}\n`));
}

const EXAMPLES = `
Examples:
  by hand    AGNTDATA_API_KEY=agnt_live_… x-media-dump --user 96479162 --out ./media
  cron       15 3 * * * cd /srv/x && x-media-dump --user @omarmhaimdat --out ./media --quiet >> x-media-dump.log 2>&1
  jq         x-media-dump --user 96479162 --json | jq -r 'select(.type == "video") | .path'

Exit codes: 0 all saved (or skipped on purpose) · 1 some items failed · 2 usage, missing key or --out locked
            3 API key rejected or out of credits · 4 API/network kept failing or sent bad data · 130 interrupted
State lives in <out>/.x-media-dump/; a rerun pays for one request when nothing is new.`;

function integer(flag: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`${flag} must be a whole number from ${min} to ${max}.`);
    }
    return Number(value);
  };
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A byte count: `1048576`, `512K`, `4G`, `4GiB` (binary units). */
function byteCount(flag: string, min: number) {
  return (value: string): number => {
    const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(value.trim());
    const bytes = m ? Math.round(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? Number.NaN)) : Number.NaN;
    if (!Number.isSafeInteger(bytes) || bytes < min) throw new InvalidArgumentError(`${flag} must be a number of bytes of at least ${min}, e.g. 1024, 512K, 4G.`);
    return bytes;
  };
}

/** --min-rate and --max-file-size, on the main command and on verify (its --repair downloads). */
function transferLimits(command: Command): Command {
  const minRate = 'a transfer or API response slower than this, averaged over --timeout, is a stall: retried once, then failed (0: no minimum)';
  return command
    .addOption(new Option('--min-rate <bytes/s>', minRate).argParser(byteCount('--min-rate', 0)).default(1024, '1K'))
    .addOption(new Option('--max-file-size <bytes>', 'refuse a file announced or counted larger than this (K, M, G: binary units)').argParser(byteCount('--max-file-size', 1)).default(4 * 1024 ** 3, '4G'));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function dollars(value: string): number {
  const amount = Number(value.trim().replace(/^\$/, ''));
  if (!Number.isFinite(amount) || amount <= 0) throw new InvalidArgumentError('--max-cost must be an amount in US dollars, e.g. 0.50 or 3');
  return amount;
}

/**
 * The config file's values for every flag not given on the command line (commander says where
 * each value came from); its `users` only when no --user or --users-file is given.
 */
function withSettings(flags: ArchiveFlags & { config?: string | false }, command: Command): ArchiveFlags {
  const file = settingsPath(flags.config, process.env);
  if (file === undefined) return flags;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // The default place may well have no file; one named with --config must exist.
    if (code === 'ENOENT' && typeof flags.config !== 'string') return flags;
    throw new UsageError(`cannot read the config file ${file} (${code ?? String(error)}); check --config`);
  }
  return mergeSettings(flags, parseSettings(text, file), (key) => command.getOptionValueSource(key));
}

function collectHost(value: string, previous: string[]): string[] {
  try {
    return [...previous, checkHost(value)];
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

let exitCode: number = ExitCode.ok;

function buildProgram(): Command {
  const program = new Command('x-media-dump')
    .description("Archive an X user's photos, videos and GIFs through agntdata's API (needs AGNTDATA_API_KEY).")
    .version(version, '-V, --version')
    .usage('--user <id|@handle|url>… [--out <dir>] [options]')
    .addOption(new Option('--user <id|@handle|url>', 'an account: numeric id, @handle or profile URL (handles looked up once, then remembered); repeatable').argParser(collect).default([], 'none'))
    .option('--users-file <file|->', 'more accounts, one per line (# comments); - reads standard input')
    .option('--shard <K/N>', 'archive only the accounts in shard K of N (0 ≤ K < N, a stable hash of the user id)')
    .option('--config <file>', 'defaults for any flag and a users list (JSON); default $XDG_CONFIG_HOME/x-media-dump/config.json')
    .option('--no-config', 'read no config file')
    .option('--out <dir>', 'archive folder, created if missing', './media')
    .option('--json', 'one NDJSON record per media item on stdout (nothing else goes there)')
    .option('--concurrency <n>', 'parallel downloads, 1-64', integer('--concurrency', 1, 64), 8)
    .option('--page-size <n>', 'tweets per API request, 1-100', integer('--page-size', 1, 100), 20)
    .option('--max-pages <n>', 'at most n API requests this run, across all accounts ($0.01 each)', integer('--max-pages', 0, 1_000_000))
    .option('--max-cost <USD>', 'spend at most this much this run, across all accounts', dollars)
    .option('--since <YYYY-MM-DD>', 'ignore tweets older than this UTC date, stop paging past it')
    .option('--until <YYYY-MM-DD>', 'ignore tweets newer than this UTC date')
    .option('--types <list>', 'comma list of photo, video, animated_gif', 'photo,video,animated_gif')
    .option('--no-retweets', 'leave out media the user reposted or quoted')
    .option('--filename <template>', `file name: {tweet_id} {n} {media_key} {type} {date} {username} {account} {ext} (default: ${DEFAULT_FILENAME}; ${DEFAULT_MULTI_FILENAME} with several accounts)`)
    .option('--dry-run', 'page and plan, download nothing (records say "planned")')
    .option('--write-metadata', "a JSON file per tweet beside its media: the tweet's X v2 record and its media records")
    .option('--metadata-filename <template>', `that file's name, with --filename's fields; implies --write-metadata (default: "${DEFAULT_METADATA_FILENAME}")`)
    .option('--full', 'page past already-archived tweets to the end (files on disk are still skipped)')
    .addOption(new Option('--allow-host <host[:port]>', 'also fetch media from this host (repeatable)').argParser(collectHost).default([], 'none'))
    .addOption(new Option('--api-base <url>', `API base URL (default: ${DEFAULT_API_BASE})`).env('AGNTDATA_API_BASE'))
    .option('--retries <n>', 'retries for a request or transfer that failed transiently', integer('--retries', 0, 100), 5)
    .option('--timeout <seconds>', 'idle timeout for one request or transfer', integer('--timeout', 1, 3600), 30)
    .option('--max-wait <seconds>', 'total time to wait on rate limits before saving and exiting 4', integer('--max-wait', 0, 86_400), 600);
  transferLimits(program)
    .option('--quiet', 'no progress and no summary; errors only')
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .action(async (flags: ArchiveFlags & { config?: string | false }, command: Command) => {
      exitCode = await archive(withSettings(flags, command));
    });

  program
    .command('export')
    .description("write the archive's records as NDJSON to stdout (no API, no key)")
    .option('--out <dir>', 'archive folder', './media')
    .option('--tweets', 'one X API v2 Tweet object per archived tweet instead of the media records')
    .option('--raw', 'with --tweets: the tweet objects as the API sent them')
    .action(async (flags: { out: string; tweets?: boolean; raw?: boolean }) => {
      if (flags.raw && !flags.tweets) throw new UsageError('--raw goes with --tweets: export --tweets --raw prints the tweets as the API sent them');
      const { exportRecords, exportTweets } = await import('./export.js');
      const notice = (m: string) => say(`x-media-dump: ${m}`);
      const out = parseOut(flags.out);
      await writeLines(flags.tweets ? exportTweets(out, { raw: flags.raw === true }, notice) : exportRecords(out, notice));
    });

  program
    .command('view')
    .description('write <out>/index.html, an offline viewer of the archived media (no API, no key)')
    .option('--out <dir>', 'archive folder', './media')
    .action(async (flags: { out: string }) => {
      const { viewArchive } = await import('./view/archive.js');
      const result = await viewArchive(parseOut(flags.out), (m) => say(`x-media-dump: ${m}`));
      say(`wrote ${result.page}: ${result.items} media, ${result.withText} with their tweet's text; open it in a browser (no server needed)`);
    });

  const verifyCommand = program
    .command('verify')
    .description('re-hash every archived file against the archive; --repair fetches bad ones again (no API request)')
    .option('--out <dir>', 'archive folder', './media')
    .option('--repair', 'download missing or corrupt files again')
    .option('--allow-host <host[:port]>', 'also fetch media from this host (repeatable)', collectHost, [])
    .option('--concurrency <n>', 'parallel checks and downloads, 1-64', integer('--concurrency', 1, 64), 8)
    .option('--retries <n>', 'retries for a transfer that failed transiently', integer('--retries', 0, 100), 5)
    .option('--timeout <seconds>', 'idle timeout for one transfer', integer('--timeout', 1, 3600), 30)
    .option('--max-wait <seconds>', 'total time to wait on rate limits while repairing', integer('--max-wait', 0, 86_400), 600);
  transferLimits(verifyCommand)
    .option('--quiet', 'errors only')
    .action(async (flags: VerifyFlags) => {
      exitCode = await verify(flags);
    });

  for (const command of [program, ...program.commands]) {
    command.exitOverride().configureOutput({
      writeErr: (text) => process.stderr.write(redact(text)),
      outputError: (text, write) => write(`x-media-dump: ${text.replace(/^error: /, '').trimEnd()} (see x-media-dump --help)\n`),
    });
  }
  return program;
}

/** One NDJSON line: still valid JSON, with every control and bidi character escaped. */
function writeRecord(record: ItemRecord): void {
  process.stdout.write(redact(`${JSON.stringify(record)}\n`));
}

/**
 * Values as NDJSON on stdout, in 64 KB writes; a slow reader (`| less`) holds us at each one, so
 * they never pile up in memory.
 */
async function writeLines(values: Iterable<unknown>): Promise<void> {
  let batch: string[] = [];
  let size = 0;
  const flush = async () => {
    const ok = process.stdout.write(redact(batch.join('')));
    batch = [];
    size = 0;
    if (!ok) await new Promise((resolve) => process.stdout.once('drain', resolve));
  };
  for (const value of values) {
    const line = `${JSON.stringify(value)}\n`;
    batch.push(line);
    size += line.length;
    if (size >= 65_536) await flush();
  }
  await flush();
}

/** Ctrl-C / SIGTERM: stop starting work, let the run save its state, then exit 130. */
function abortOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

async function archive(flags: ArchiveFlags): Promise<number> {
  const config = parseConfig(flags, process.env);
  const [{ runArchive, exitCodeOf }, { createReporter }, { formatSummary }] = await Promise.all([import('./run.js'), import('./output/reporter.js'), import('./output/summary.js')]);
  const reporter = await createReporter({ quiet: config.quiet, stream: process.stderr, env: process.env });
  const { signal, dispose } = abortOnSignals();
  try {
    const result = await runArchive(config, { reporter, signal, emit: config.json ? writeRecord : () => undefined });
    reporter.stop();
    const summary = formatSummary({ ...result, dryRun: config.dryRun, perAccount: config.users.length > 1 });
    if (!config.quiet) say(summary);
    else if (result.failures.length > 0) say(summary.split('\n').filter((line) => line.startsWith('failed:')).join('\n'));
    if (result.interrupted) fail(new InterruptedError());
    else if (result.error) fail(result.error);
    return exitCodeOf(result);
  } finally {
    reporter.stop();
    dispose();
  }
}

interface VerifyFlags {
  out: string;
  repair?: boolean;
  allowHost: string[];
  concurrency: number;
  retries: number;
  timeout: number;
  maxWait: number;
  minRate: number;
  maxFileSize: number;
  quiet?: boolean;
}

async function verify(flags: VerifyFlags): Promise<number> {
  const [{ verifyArchive }, { DEFAULT_MEDIA_HOSTS }] = await Promise.all([import('./verify.js'), import('./config.js')]);
  const { signal, dispose } = abortOnSignals();
  try {
    const result = await verifyArchive({
      out: parseOut(flags.out),
      repair: flags.repair === true,
      allowHosts: [...DEFAULT_MEDIA_HOSTS, ...flags.allowHost],
      concurrency: flags.concurrency,
      retries: flags.retries,
      timeoutMs: flags.timeout * 1000,
      minRate: flags.minRate,
      maxFileSize: flags.maxFileSize,
      maxWaitMs: flags.maxWait * 1000,
      signal,
      notice: (m) => say(`x-media-dump: ${m}`),
    });
    for (const bad of result.bad) {
      if (!flags.quiet || !bad.repaired) say(`${bad.problem}: ${bad.path}${bad.repaired ? ' (repaired)' : bad.reason ? ` (not repaired: ${bad.reason})` : ''}`);
    }
    const unrepaired = result.bad.filter((b) => !b.repaired).length;
    if (!flags.quiet) say(`verified ${result.checked} files: ${result.ok} intact, ${result.bad.length - unrepaired} repaired, ${unrepaired} missing or corrupt`);
    if (signal.aborted) return ExitCode.interrupted;
    return unrepaired > 0 ? ExitCode.itemsFailed : ExitCode.ok;
  } finally {
    dispose();
  }
}

function fail(error: XmdError): number {
  say(`x-media-dump: ${error.message}`);
  return error.exitCode;
}

async function main(): Promise<void> {
  // `x-media-dump --json | head` closes our stdout early: that is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    } else if (error instanceof XmdError) {
      exitCode = fail(error);
    } else {
      say(`x-media-dump: unexpected error: ${error instanceof Error ? error.message : String(error)}${debug ? '' : ' (run with DEBUG=x-media-dump for details)'}`);
      exitCode = ExitCode.itemsFailed;
    }
    if (debug && error instanceof Error && !(error instanceof CommanderError)) say(error.stack ?? String(error));
  }
  process.exitCode = exitCode;
}

await main();
