import { ApiClient } from './api/client.js';
import { pages } from './api/pager.js';
import { STATE_DIR, type Archive } from './archive/state.js';
import type { Config } from './config.js';
import { ApiAuthError, ApiCreditsError, ArchiveWriteError, NotFoundError, PayloadError, RateLimitedError, UsageError, XmdError } from './errors.js';
import { DownloadQueue } from './download/queue.js';
import type { SaveContext } from './download/save.js';
import { SafeFolders } from './archive/files.js';
import { ItemHandler } from './items.js';
import { renderFilename } from './media/filename.js';
import { normalizeTweet, tweetFacts } from './media/normalize.js';
import { problemRecord } from './output/records.js';
import type { Reporter } from './output/reporter.js';
import type { Progress } from './output/summary.js';
import { recoverLostPages } from './recover.js';
import { openSession, type Session } from './session.js';
import type { ApiRequestEvent, ItemRecord, ScanState, StopReason } from './types.js';

/** What the edges give a run: where records and progress go, and the signal that stops it. */
export interface RunHooks {
  reporter: Reporter;
  emit: (record: ItemRecord) => void;
  signal: AbortSignal;
}

export interface RunResult {
  progress: Progress;
  requests: number;
  /** Requests the API refused (401, 402, 403): made, not billed. */
  refused: number;
  cents: number;
  /** Files the archive holds at the end of the run. */
  onDisk: number;
  scan: ScanState | undefined;
  stop: StopReason | undefined;
  /** Media discovered that this run's filters want but that are not on disk yet. */
  waiting: number;
  /** What ended paging early (credits, auth, rate limit, bad payload); downloads still finished. */
  error: XmdError | undefined;
  failures: ItemRecord[];
  interrupted: boolean;
}

/**
 * The main job. Holds the archive; downloads what earlier runs discovered but did not save (no
 * API request); pages the head and the gaps, journaling every page's media before queueing
 * them; waits for the transfers; returns what happened. Prints nothing and never exits.
 */
export async function runArchive(config: Config, hooks: RunHooks): Promise<RunResult> {
  const notice = (message: string) => hooks.reporter.notice(message);
  const session = openSession({ ...config, mustExist: false, signal: hooks.signal, notice });
  const run = new Run(config, hooks, session);
  let paged: Paged;
  try {
    paged = await run.page();
  } catch (error) {
    // A usage problem found late (an unknown handle) or a bug: no summary, but finish cleanly.
    await run.queue.drain().finally(() => session.close());
    throw error;
  }
  // Paging has stopped, for whatever reason: what it found still gets downloaded (no API cost).
  run.items.progress.pagingDone = true;
  let onDisk = 0;
  try {
    await run.queue.drain();
    onDisk = session.archive.counts().files;
  } finally {
    await session.close();
  }
  const { progress, failures } = run.items;
  const { requests, cents, refused } = run.client.cost;
  progress.cents = cents;
  const interrupted = hooks.signal.aborted;
  return { ...paged, progress, requests, refused, cents, onDisk, failures, interrupted, waiting: run.items.waiting, stop: interrupted ? 'interrupted' : paged.stop, error: paged.error ?? run.rateLimited };
}

interface Paged {
  scan: ScanState | undefined;
  stop: StopReason | undefined;
  error: XmdError | undefined;
}

/** One run's working parts: the API client, the download queue and the per-item handling. */
class Run {
  readonly client: ApiClient;
  readonly queue: DownloadQueue;
  readonly items: ItemHandler;
  rateLimited: RateLimitedError | undefined;
  private requestsLeft: number;

  constructor(
    private readonly config: Config,
    private readonly hooks: RunHooks,
    private readonly session: Session,
  ) {
    const { archive, dispatcher, retry } = session;
    const onRequest = (event: ApiRequestEvent) => hooks.reporter.request(event);
    this.client = new ApiClient({ apiBase: config.apiBase, apiKey: config.apiKey, timeoutMs: config.timeoutMs, minRate: config.minRate, dispatcher, retry, onRequest });
    this.queue = new DownloadQueue(config.concurrency, hooks.signal);
    const save: SaveContext = {
      archive,
      fetch: { dispatcher, allowHosts: config.allowHosts, timeoutMs: config.timeoutMs, minRate: config.minRate, maxFileSize: config.maxFileSize, retry, tmpDir: archive.tmpDir, out: config.out, folders: new SafeFolders(config.out, STATE_DIR) },
      nameFor: (item, ext) => renderFilename(config.filename, item, ext),
      dryRun: config.dryRun,
      onRateLimited: (error) => (this.rateLimited ??= error),
    };
    this.items = new ItemHandler(config, archive, this.queue, save, (record) => {
      this.items.progress.cents = this.client.cost.cents;
      hooks.emit(record);
      hooks.reporter.progress(this.items.progress);
    });
    hooks.reporter.progress(this.items.progress);
    this.requestsLeft = config.maxPages ?? Number.POSITIVE_INFINITY;
  }

  /** What earlier runs left pending, then the user's pages; an API error ends paging, not the run. */
  async page(): Promise<Paged> {
    const { archive } = this.session;
    const paged: Paged = { scan: undefined, stop: undefined, error: undefined };
    try {
      recoverLostPages(archive, (message) => this.hooks.reporter.notice(message));
      archive.checkFiles();
      for (const item of archive.pending()) {
        await this.queue.room();
        this.items.handle(item, false);
      }
      const userId = await resolveUser(this.config, archive, this.client, this.mayRequest);
      paged.scan = archive.scanOf(userId);
      paged.stop = await this.pageUser(userId, (scan) => (paged.scan = scan)).catch(async (error: unknown) => {
        if (!(error instanceof NotFoundError)) throw error;
        await this.confirmUser(userId);
        return 'api-failed' as const;
      });
      // Nothing at all, ever, for an id never archived: a typo looks exactly like this.
      if (paged.stop === 'history-complete' && paged.scan.head === undefined) await this.confirmUser(userId);
    } catch (error) {
      if (this.hooks.signal.aborted) return paged;
      if (!(error instanceof XmdError) || error instanceof UsageError) throw error;
      paged.error = error;
      paged.stop = stopFor(error);
    }
    return paged;
  }

  private readonly mayRequest = (): boolean => this.requestsLeft-- > 0;

  /**
   * One `/user/details?user_id=` request (remembered once it finds the user) tells an id that
   * does not exist (exit 2) from an account with no media (a warning).
   */
  private async confirmUser(userId: string): Promise<void> {
    const { archive } = this.session;
    let name = [...archive.handles].find(([, id]) => id === userId)?.[0];
    if (name === undefined) {
      if (!this.mayRequest()) return;
      const profile = await this.client.profile({ id: userId });
      if (profile === undefined) throw new UsageError(`no such user: ${userId} (agntdata knows no X user with this id); check --user`);
      // Remembered under its handle (or its id, which no handle lookup ever asks for).
      name = profile.username?.toLowerCase() ?? userId;
      archive.rememberHandle(name, userId);
    }
    this.hooks.reporter.notice(`${/^\d+$/.test(name) ? 'user ' : '@'}${name} has no media`);
  }

  /** Each page: normalized, journaled with the progress past it, then its items handled. */
  private async pageUser(userId: string, onScan: (scan: ScanState) => void): Promise<StopReason> {
    const { config, items } = this;
    const pager = pages(this.session.archive.scanOf(userId), {
      source: this.client,
      userId,
      pageSize: config.pageSize,
      full: config.full,
      since: config.since,
      factsOf: tweetFacts,
      mayRequest: this.mayRequest,
      signal: this.hooks.signal,
      warn: (message) => this.hooks.reporter.notice(message),
    });
    for (;;) {
      // A first run pages no further ahead of its downloads than the queue holds: memory stays flat.
      await this.queue.room();
      const step = await pager.next();
      if (step.done) return step.value;
      const page = step.value;
      items.progress.pages += 1;
      onScan(page.scan);
      const found = page.tweets.map((tweet) => normalizeTweet(tweet));
      const body = page.raw ?? JSON.stringify({ results: page.tweets });
      this.session.archive.recordPage({ userId, seq: page.scan.pages, newest: page.newest, body, items: found.flatMap((f) => f.items), scan: page.scan });
      for (const { items: pageItems, problems } of found) {
        for (const problem of problems) items.emit(problemRecord(problem));
        for (const item of pageItems) items.handle(item, true);
      }
    }
  }
}

function stopFor(error: XmdError): StopReason {
  if (error instanceof ApiCreditsError) return 'out-of-credits';
  if (error instanceof ApiAuthError) return 'key-rejected';
  if (error instanceof RateLimitedError) return 'rate-limited';
  if (error instanceof PayloadError) return 'unreadable-page';
  if (error instanceof ArchiveWriteError) return 'archive-unwritable';
  return 'api-failed';
}

async function resolveUser(config: Config, archive: Archive, client: ApiClient, mayRequest: () => boolean): Promise<string> {
  if (config.user.kind === 'id') return config.user.id;
  const { handle } = config.user;
  const known = archive.handles.get(handle);
  if (known) return known;
  if (!mayRequest()) throw new UsageError(`--max-pages leaves no request to look up @${handle}; pass the numeric id or raise --max-pages`);
  const userId = (await client.profile({ handle }))?.user_id;
  if (userId === undefined) throw new UsageError(`@${handle} does not exist on X (agntdata has no such user); check the handle`);
  archive.rememberHandle(handle, userId);
  return userId;
}
