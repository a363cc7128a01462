import { accountFolder, pageAccounts, resolveAccounts, stopFor, type Account, type AccountContext } from './accounts.js';
import { ApiClient } from './api/client.js';
import type { FetchedPage } from './api/pager.js';
import { SafeFolders } from './archive/files.js';
import { STATE_DIR } from './archive/state.js';
import type { Config } from './config.js';
import { ExitCode, RateLimitedError, UsageError, XmdError } from './errors.js';
import { DownloadQueue } from './download/queue.js';
import type { SaveContext } from './download/save.js';
import { ItemHandler } from './items.js';
import { Sidecars } from './metadata.js';
import { DEFAULT_FILENAME, DEFAULT_MULTI_FILENAME, renderFilename, usesAccount } from './media/filename.js';
import { normalizeTweet, tweetFacts } from './media/normalize.js';
import { problemRecord } from './output/records.js';
import type { Reporter } from './output/reporter.js';
import type { Progress } from './output/summary.js';
import { recoverLostPages } from './recover.js';
import { openSession, type Session } from './session.js';
import { hasViewer, viewerMayChange, writeArchiveViewer } from './view/archive.js';
import type { ApiRequestEvent, ItemRecord, MediaItem, ScanState, StopReason } from './types.js';

/** What the edges give a run: where records and progress go, and the signal that stops it. */
export interface RunHooks {
  reporter: Reporter;
  emit: (record: ItemRecord) => void;
  signal: AbortSignal;
}

/** How one account's paging went this run. */
export interface AccountResult {
  name: string;
  userId: string;
  scan: ScanState | undefined;
  stop: StopReason | undefined;
  error: XmdError | undefined;
  requests: number;
  /** Files saved for this account this run. */
  downloaded: number;
}

export interface RunResult {
  progress: Progress;
  requests: number;
  /** Requests the API refused (401, 402, 403; 404 for an unknown user): made, not billed. */
  refused: number;
  cents: number;
  /** Files the archive holds at the end of the run. */
  onDisk: number;
  accounts: AccountResult[];
  /** With one account: its paging state and stop reason (the summary's history line). */
  scan: ScanState | undefined;
  stop: StopReason | undefined;
  /** Media discovered that this run's filters want but that are not on disk yet. */
  waiting: number;
  /** What ended every account's paging early (credits, auth, rate limit, the disk); downloads still finished. */
  error: XmdError | undefined;
  failures: ItemRecord[];
  interrupted: boolean;
}

/**
 * The main job. Holds the archive; downloads what earlier runs discovered but did not save (no
 * API request); pages every account (heads first, then the backfills in turn), journaling each
 * page's media before queueing them; waits for the transfers; returns what happened. Prints
 * nothing and never exits.
 */
export async function runArchive(config: Config, hooks: RunHooks): Promise<RunResult> {
  const notice = (message: string) => hooks.reporter.notice(message);
  const session = openSession({ ...config, mustExist: false, signal: hooks.signal, notice });
  const run = new Run(config, hooks, session);
  let accounts: Account[];
  let error: XmdError | undefined;
  try {
    ({ accounts, error } = await run.page());
  } catch (caught) {
    // A usage problem found late (a one-account run's unknown user) or a bug: no summary.
    await run.queue.drain().finally(() => session.close());
    throw caught;
  }
  // Paging has stopped, for whatever reason: what it found still gets downloaded (no API cost).
  run.items.progress.pagingDone = true;
  let onDisk = 0;
  try {
    await run.queue.drain();
    await run.finish();
    onDisk = session.archive.counts().files;
  } finally {
    await session.close();
  }
  const { progress, failures } = run.items;
  const { requests, cents, refused } = run.client.cost;
  progress.cents = cents;
  const interrupted = hooks.signal.aborted;
  // What a caller may see of each account: not its paging bookkeeping (numbering, saved tokens).
  const results = accounts.map(
    (a): AccountResult => ({ name: a.name, userId: a.userId, scan: a.scan, stop: interrupted && !a.error ? 'interrupted' : a.stop, error: a.error, requests: a.requests, downloaded: run.items.downloadedFor(a.userId) }),
  );
  const only = results.length === 1 ? results[0] : undefined;
  const stop = interrupted ? 'interrupted' : (only?.stop ?? (error ? stopFor(error) : undefined));
  return { progress, requests, refused, cents, onDisk, accounts: results, scan: only?.scan, stop, waiting: run.items.waiting, error: error ?? only?.error ?? run.rateLimited, failures, interrupted };
}

/** The exit code a run earned: the most severe of its failures (DESIGN.md's codes, README's order). */
export function exitCodeOf(result: RunResult): ExitCode {
  const codes: ExitCode[] = [result.error?.exitCode ?? ExitCode.ok, ...result.accounts.map((a) => a.error?.exitCode ?? ExitCode.ok)];
  if (result.failures.length > 0) codes.push(ExitCode.itemsFailed);
  if (result.interrupted) codes.push(ExitCode.interrupted);
  const severity: ExitCode[] = [ExitCode.interrupted, ExitCode.apiRefused, ExitCode.usage, ExitCode.apiFailed, ExitCode.itemsFailed, ExitCode.ok];
  return severity.find((code) => codes.includes(code)) ?? ExitCode.ok;
}

/** One run's working parts: the API client, the download queue, the budget and the per-item handling. */
class Run {
  readonly client: ApiClient;
  readonly queue: DownloadQueue;
  readonly items: ItemHandler;
  /** --write-metadata (not on a dry run). */
  readonly sidecars: Sidecars | undefined;
  rateLimited: RateLimitedError | undefined;
  private requestsLeft: number;
  /** --filename, or the default for one account or for several. */
  private filename = DEFAULT_FILENAME;
  private spentOn: 'max-pages' | 'max-cost' = 'max-pages';

  constructor(
    private readonly config: Config,
    private readonly hooks: RunHooks,
    private readonly session: Session,
  ) {
    const { archive, dispatcher, retry } = session;
    const onRequest = (event: ApiRequestEvent) => hooks.reporter.request(event);
    this.client = new ApiClient({ apiBase: config.apiBase, apiKey: config.apiKey, timeoutMs: config.timeoutMs, minRate: config.minRate, dispatcher, retry, onRequest });
    this.queue = new DownloadQueue(config.concurrency, hooks.signal);
    const folders = new SafeFolders(config.out, STATE_DIR);
    const save: SaveContext = {
      archive,
      fetch: { dispatcher, allowHosts: config.allowHosts, timeoutMs: config.timeoutMs, minRate: config.minRate, maxFileSize: config.maxFileSize, retry, tmpDir: archive.tmpDir, out: config.out, folders },
      nameFor: (item, ext) => renderFilename(this.filename, item, ext, this.folderOf(this.filename, item)),
      dryRun: config.dryRun,
      onRateLimited: (error) => (this.rateLimited ??= error),
    };
    this.items = new ItemHandler(config, archive, this.queue, save, (record) => {
      this.items.progress.cents = this.client.cost.cents;
      if (record.status === 'downloaded' && record.tweet_id !== undefined) this.sidecars?.saved(record.tweet_id);
      hooks.emit(record);
      hooks.reporter.progress(this.items.progress);
    });
    hooks.reporter.progress(this.items.progress);
    const sidecarFailed = (f: { tweetId: string; reason: string }) => this.failed({ status: 'failed', tweet_id: f.tweetId, reason: `metadata: ${f.reason}` });
    this.sidecars = config.writeMetadata && !config.dryRun ? new Sidecars(archive, config.metadataFilename, folders, (item) => this.folderOf(config.metadataFilename, item), sidecarFailed) : undefined;
    this.items.trackSettling = this.sidecars !== undefined;
    this.requestsLeft = config.maxPages ?? Number.POSITIVE_INFINITY;
  }

  /** What earlier runs left pending, then every account's pages; an API error ends paging, not the run. */
  async page(): Promise<{ accounts: Account[]; error: XmdError | undefined }> {
    const { archive } = this.session;
    const context = this.accountContext();
    let accounts: Account[] = [];
    try {
      recoverLostPages(archive, context.notice);
      archive.checkFiles();
      // Resolved first: how many accounts there are decides the default file names.
      const resolved = await resolveAccounts(this.config.users, this.config.shard, context);
      accounts = [...resolved.accounts, ...resolved.failed];
      this.throwForOneAccount(accounts);
      this.filename = this.config.filename ?? (accounts.length > 1 ? DEFAULT_MULTI_FILENAME : DEFAULT_FILENAME);
      for (const item of archive.pending()) {
        await this.queue.room();
        this.items.handle(item, false);
      }
      for (const failed of resolved.failed) this.hooks.emit(accountRecord(failed));
      const error = await pageAccounts(resolved.accounts, context);
      this.throwForOneAccount(accounts);
      for (const account of resolved.accounts) if (account.error) this.hooks.emit(accountRecord(account));
      return { accounts, error };
    } catch (error) {
      if (this.hooks.signal.aborted) return { accounts, error: undefined };
      if (!(error instanceof XmdError) || error instanceof UsageError) throw error;
      return { accounts, error };
    }
  }

  /**
   * Once the downloads are done: the metadata sidecars still due, then the viewer, when the
   * archive has one (`view` made it). Neither after an interruption; a failure is the run's (exit 1).
   */
  async finish(): Promise<void> {
    this.items.settleAll();
    await this.sidecars?.finish(() => this.hooks.signal.aborted);
    if (this.hooks.signal.aborted || this.config.dryRun || !hasViewer(this.config.out)) return;
    if (!viewerMayChange(this.session.archive, this.items.progress.downloaded)) return;
    await writeArchiveViewer(this.session.archive).catch((error: unknown) => {
      this.failed({ status: 'failed', reason: error instanceof Error ? error.message : String(error) });
    });
  }

  /** A failure beside the media items': counted and named in the summary, never a --json record. */
  private failed(record: ItemRecord): void {
    this.items.noteFailure(record);
    this.hooks.reporter.item(record);
  }

  /** With one account, a usage problem (no such user) is the run's: exit 2, no summary, as ever. */
  private throwForOneAccount(accounts: readonly Account[]): void {
    const [only] = accounts;
    if (accounts.length === 1 && this.config.users.length === 1 && only?.error instanceof UsageError) throw only.error;
  }

  private accountContext(): AccountContext {
    return {
      archive: this.session.archive,
      client: this.client,
      mayRequest: this.mayRequest,
      budgetStop: () => this.spentOn,
      pagerOptions: (account) => ({
        source: this.client,
        userId: account.userId,
        pageSize: this.config.pageSize,
        full: this.config.full,
        since: this.config.since,
        factsOf: tweetFacts,
        mayRequest: this.mayRequest,
        signal: this.hooks.signal,
        warn: (message) => this.hooks.reporter.notice(this.config.users.length > 1 ? `${account.name}: ${message}` : message),
        numbering: account.numbering,
        savedTokens: account.savedTokens,
      }),
      takePage: (account, page) => this.takePage(account, page),
      room: () => this.queue.room(),
      notice: (message) => this.hooks.reporter.notice(message),
      signal: this.hooks.signal,
    };
  }

  /** --max-pages and --max-cost, for the whole run. */
  private readonly mayRequest = (): boolean => {
    const { maxCostCents } = this.config;
    if (maxCostCents !== undefined && this.client.cost.cents + 1 > maxCostCents) {
      this.spentOn = 'max-cost';
      return false;
    }
    return this.requestsLeft-- > 0;
  };

  /** Each page: normalized, journaled with the progress past it, then its items handled. */
  private takePage(account: Account, page: FetchedPage): void {
    const { items } = this;
    items.progress.pages += 1;
    const found = page.tweets.map((tweet) => normalizeTweet(tweet));
    const body = page.raw ?? JSON.stringify({ results: page.tweets });
    this.session.archive.recordPage({ userId: account.userId, seq: page.scan.pages, newest: page.newest, body, items: found.flatMap((f) => f.items), scan: page.scan });
    for (const { items: pageItems, problems } of found) {
      for (const problem of problems) items.emit(problemRecord(problem));
      for (const item of pageItems) items.handle(item, true);
    }
    if (!this.sidecars) return;
    const keys = found.flatMap((f) => f.items.map((item) => item.media.media_key));
    this.sidecars.afterPage(page.tweets, items.settled(keys), () => this.hooks.signal.aborted);
  }

  /** `{account}` for `template`, only when it names it (the folder is then chosen and remembered). */
  private folderOf(template: string, item: MediaItem): string | undefined {
    return usesAccount(template) ? accountFolder(item.tweet.author_id, item.tweet.username, this.session.archive) : undefined;
  }
}

/** An account that failed, as an NDJSON record: no media, the account, and why. */
function accountRecord(account: Account): ItemRecord {
  return {
    ...(account.userId ? { author_id: account.userId } : {}),
    ...(account.name.startsWith('@') ? { username: account.name.slice(1) } : {}),
    status: 'failed',
    reason: account.error?.message ?? 'failed',
  };
}
