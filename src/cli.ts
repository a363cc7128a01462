import fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { FORMAT } from './archive/entries.js';
import { DEFAULT_API_BASE, DEFAULT_MEDIA_HOSTS, DEFAULT_METADATA_FILENAME, parseConfig, parseOut, transferLimits, type ArchiveFlags, type TransferFlags } from './config.js';
import { DEFAULTS, LIMITS } from './defaults.js';
import { InterruptedError, ExitCode, UsageError, XmdError } from './errors.js';
import { collect, dollars, integer, shared, withOutputFlags, withTransferFlags, type OutputFlags } from './flags.js';
import { DEFAULT_FILENAME, DEFAULT_MULTI_FILENAME } from './media/filename.js';
import { verifyRecord } from './output/records.js';
import { strayArgumentMessage } from './output/suggest.js';
import { escapeControls } from './output/terminal.js';
import { targetName, targetOf } from './targets.js';
import { verboseHeader } from './output/verbose.js';
import type { ItemRecord } from './types.js';

/**
 * The edge: flags in, exit code out. The only module that reads process.argv, writes to the
 * terminal, handles signals or sets process.exitCode. The heavy modules load only when a
 * command runs, so `--help` and `--version` start fast.
 */

const version = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const apiKey = process.env['AGNTDATA_API_KEY']?.trim();
const debug = /(^|,)\s*(x-media-dump|\*)\s*(,|$)/.test(process.env['DEBUG'] ?? '');
/** For tests only: the plain progress line's period (ms) instead of 30 s, so a test need not wait. */
const progressEveryMs = Number(process.env['X_MEDIA_DUMP_TEST_PROGRESS_MS']) || undefined;

/**
 * Belt and braces: whatever reaches the terminal passes through here, and the key never does;
 * nor do terminal controls or bidi overrides from the API's text (see output/terminal.ts).
 */
function redact(text: string): string {
  return escapeControls(apiKey && apiKey.length >= 4 ? text.split(apiKey).join('[redacted]') : text);
}

function say(text: string): void {
  if (text !== '') process.stderr.write(redact(text.endsWith('\n') ? text : `${text}\n`));
}

/** One NDJSON line: still valid JSON, with every control and bidi character escaped. */
function writeLine(value: unknown): void {
  process.stdout.write(redact(`${JSON.stringify(value)}\n`));
}

const EXAMPLES = `
Examples:
  by hand    AGNTDATA_API_KEY=agnt_live_… x-media-dump --user 96479162 --out ./media
  cron       15 3 * * * cd /srv/x && x-media-dump --user @omarmhaimdat --out ./media --quiet >> x-media-dump.log 2>&1
  jq         x-media-dump --user 96479162 --json | jq -r 'select(.type == "video") | .path'

Exit codes: 0 all saved (or skipped on purpose) · 1 some items failed · 2 usage, missing key or --out locked
            3 API key rejected or out of credits · 4 API/network kept failing or sent bad data · 130 interrupted
State lives in <out>/.x-media-dump/; a rerun pays for one request when nothing is new.`;

let exitCode: number = ExitCode.ok;

type MainFlags = ArchiveFlags & { verbose?: boolean; color: boolean; config?: string | false };

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
    .addOption(shared.out())
    .option('--json', 'one NDJSON record per media item on stdout (nothing else goes there)')
    .addOption(shared.concurrency())
    .option('--page-size <n>', 'tweets per API request, 1-100', integer('--page-size', ...LIMITS.pageSize), DEFAULTS.pageSize)
    .option('--max-pages <n>', 'at most n API requests this run, across all accounts ($0.01 each)', integer('--max-pages', ...LIMITS.maxPages))
    .option('--max-cost <USD>', 'spend at most this much this run, across all accounts', dollars)
    .option('--since <YYYY-MM-DD>', 'ignore tweets older than this UTC date, stop paging past it')
    .option('--until <YYYY-MM-DD>', 'ignore tweets newer than this UTC date')
    .option('--types <list>', 'comma list of photo, video, animated_gif', DEFAULTS.types)
    .option('--no-retweets', 'leave out media the user reposted or quoted')
    .option('--filename <template>', `file name: {tweet_id} {n} {media_key} {type} {date} {username} {account} {ext} (default: ${DEFAULT_FILENAME}; ${DEFAULT_MULTI_FILENAME} with several accounts)`)
    .option('--dry-run', 'page and plan, download nothing (records say "planned")')
    .option('--write-metadata', "a JSON file per tweet beside its media: the tweet's X v2 record and its media records")
    .option('--metadata-filename <template>', `that file's name, with --filename's fields; implies --write-metadata (default: "${DEFAULT_METADATA_FILENAME}")`)
    .option('--full', 'page past already-archived tweets to the end (files on disk are still skipped)')
    .addOption(shared.allowHost())
    .addOption(new Option('--api-base <url>', `API base URL (default: ${DEFAULT_API_BASE})`).env('AGNTDATA_API_BASE'));
  withOutputFlags(withTransferFlags(program).addOption(shared.quiet()))
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .action(async (flags: MainFlags, command: Command) => {
      exitCode = await archive(flags, command);
    });

  const exportCommand = program
    .command('export')
    .description("write the archive's records as NDJSON to stdout (no API, no key)")
    .addOption(shared.out())
    .option('--tweets', 'one X API v2 Tweet object per archived tweet instead of the media records')
    .option('--raw', 'with --tweets: the tweet objects as the API sent them');
  withOutputFlags(exportCommand).action(async (flags: ExportFlags) => {
    await exportArchive(flags);
  });

  const viewCommand = program
    .command('view')
    .description('write <out>/index.html, an offline viewer of the archived media (no API, no key)')
    .addOption(shared.out());
  withOutputFlags(viewCommand).action(async (flags: OutputFlags & { out: string }) => {
    const { viewArchive } = await import('./view/archive.js');
    const result = await viewArchive(parseOut(flags.out), (m) => say(`x-media-dump: ${m}`));
    say(`wrote ${result.page}: ${result.items} media, ${result.withText} with their tweet's text; open it in a browser (no server needed)`);
  });

  const verifyCommand = program
    .command('verify')
    .description('re-hash every archived file against the archive; --repair fetches bad ones again (no API request)')
    .addOption(shared.out())
    .option('--repair', 'download missing or corrupt files again')
    .option('--json', 'one NDJSON record per file on stdout: intact, missing, corrupt or repaired')
    .addOption(shared.allowHost())
    .addOption(shared.concurrency());
  withOutputFlags(withTransferFlags(verifyCommand).addOption(shared.quiet())).action(async (flags: VerifyFlags) => {
    exitCode = await verify(flags);
  });

  // Stray words reach the main job's action, where they get a suggestion instead of "too many arguments".
  program.allowExcessArguments(true);
  for (const command of [program, ...program.commands]) {
    command.exitOverride().configureOutput({
      writeErr: (text) => process.stderr.write(redact(text)),
      outputError: (text, write) => write(`x-media-dump: ${oneLine(text)} (see x-media-dump${command === program ? '' : ` ${command.name()}`} --help)\n`),
    });
  }
  return program;
}

/** commander's `error: unknown option '--verbos'\n(Did you mean --verbose?)` as one line. */
function oneLine(text: string): string {
  return text
    .replace(/^error: /, '')
    .trimEnd()
    .replace(/\s*\n\(Did you mean (.+)\?\)$/, '; did you mean $1?');
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


function header(out: string, apiBase: string | undefined): string[] {
  return verboseHeader({ version, apiBase, out, archiveFormat: FORMAT, env: process.env });
}

async function archive(given: MainFlags, command: Command): Promise<number> {
  const [word] = command.args;
  if (word !== undefined) {
    const user = targetOf(word);
    throw new UsageError(`${strayArgumentMessage(word, command.commands.map((c) => c.name()), user && targetName(user))} (see x-media-dump --help)`);
  }
  // Loaded here, not at the top: the config file's schema brings zod, which --version and --help
  // do without.
  const { withSettings } = await import('./settings.js');
  const flags = withSettings(given, (key) => command.getOptionValueSource(key), process.env);
  const config = parseConfig(flags, process.env);
  const [{ runArchive, exitCodeOf }, { createReporter }, { formatFailures, formatSummary }] = await Promise.all([import('./run.js'), import('./output/reporter.js'), import('./output/summary.js')]);
  const verbose = flags.verbose === true;
  const reporter = await createReporter({ quiet: config.quiet, verbose, color: flags.color, stream: process.stderr, env: process.env, ...(progressEveryMs ? { plainEveryMs: progressEveryMs } : {}) });
  if (verbose) for (const line of header(config.out, config.apiBase)) reporter.line(redact(line));
  const { signal, dispose } = abortOnSignals();
  const emit = (record: ItemRecord) => {
    if (config.json) writeLine(record);
    // An account that failed (no media, no tweet) has its own summary line; items are said as they fail.
    if (record.media_key !== undefined || record.tweet_id !== undefined) reporter.item(record);
  };
  try {
    const result = await runArchive(config, { reporter, signal, emit });
    reporter.stop();
    const facts = { ...result, dryRun: config.dryRun, perAccount: config.users.length > 1 };
    // Failed items were printed as they failed, unless --quiet held them back until now.
    say(config.quiet ? formatFailures(facts) : formatSummary(facts));
    if (result.interrupted) fail(new InterruptedError());
    else if (result.error) fail(result.error);
    return exitCodeOf(result);
  } finally {
    reporter.stop();
    dispose();
  }
}

interface ExportFlags extends OutputFlags {
  out: string;
  tweets?: boolean;
  raw?: boolean;
}

async function exportArchive(flags: ExportFlags): Promise<void> {
  if (flags.raw && !flags.tweets) throw new UsageError('--raw goes with --tweets: export --tweets --raw prints the tweets as the API sent them');
  const out = parseOut(flags.out);
  if (flags.verbose) say(header(out, undefined).join('\n'));
  const { exportRecords, exportTweets } = await import('./export.js');
  const notice = (m: string) => say(`x-media-dump: ${m}`);
  const lines = flags.tweets ? exportTweets(out, { raw: flags.raw === true }, notice) : exportRecords(out, notice);
  // Records go out in 64 KB writes; a slow reader (`| less`) holds us at each one, so they
  // never pile up in memory.
  let batch: string[] = [];
  let size = 0;
  const flush = async () => {
    const ok = process.stdout.write(redact(batch.join('')));
    batch = [];
    size = 0;
    if (!ok) await new Promise((resolve) => process.stdout.once('drain', resolve));
  };
  for (const value of lines) {
    const line = `${JSON.stringify(value)}\n`;
    batch.push(line);
    size += line.length;
    if (size >= 65_536) await flush();
  }
  await flush();
}

interface VerifyFlags extends OutputFlags, TransferFlags {
  out: string;
  repair?: boolean;
  json?: boolean;
  allowHost: string[];
  concurrency: number;
  quiet?: boolean;
}

async function verify(flags: VerifyFlags): Promise<number> {
  const { verifyArchive, verifyExitCode } = await import('./verify.js');
  const out = parseOut(flags.out);
  if (flags.verbose) say(header(out, undefined).join('\n'));
  const { signal, dispose } = abortOnSignals();
  try {
    const result = await verifyArchive({
      out,
      repair: flags.repair === true,
      allowHosts: [...DEFAULT_MEDIA_HOSTS, ...flags.allowHost],
      concurrency: flags.concurrency,
      ...transferLimits(flags),
      signal,
      notice: (m) => say(`x-media-dump: ${m}`),
      onFile: (outcome) => {
        if (flags.json) writeLine(verifyRecord(outcome));
        if (flags.verbose && outcome.status === 'repaired') say(`* repaired ${outcome.file.path} (was ${outcome.was ?? '?'})`);
      },
    });
    for (const bad of result.bad) {
      const problem = bad.status === 'repaired' ? bad.was : bad.status;
      if (!flags.quiet || bad.status !== 'repaired') say(`${problem ?? 'missing'}: ${bad.file.path}${bad.status === 'repaired' ? ' (repaired)' : bad.reason ? ` (not repaired: ${bad.reason})` : ''}`);
    }
    if (!flags.quiet) say(`verified ${result.checked} files: ${result.intact} intact, ${result.repaired} repaired, ${result.unrepaired} missing or corrupt`);
    return verifyExitCode(result, signal.aborted);
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
