import fs from 'node:fs';
import path from 'node:path';
import { ApiClient } from './api/client.js';
import { pages } from './api/pager.js';
import type { Archive } from './archive/state.js';
import type { Config } from './config.js';
import { ApiAuthError, ApiCreditsError, PayloadError, RateLimitedError, UsageError, XmdError } from './errors.js';
import { DownloadQueue } from './download/queue.js';
import { estimatedBytes, saveItem, type SaveContext } from './download/save.js';
import { tweetFacts } from './media/facts.js';
import { renderFilename } from './media/filename.js';
import { normalizeTweet } from './media/normalize.js';
import { planItem, type PlanOptions } from './media/plan.js';
import { problemRecord, toRecord } from './output/records.js';
import type { Reporter } from './output/reporter.js';
import { emptyProgress, type Progress } from './output/summary.js';
import { openSession, type Session } from './session.js';
import type { ItemRecord, MediaItem, ScanState, StopReason } from './types.js';

/** What the edges give a run: where records and progress go, and the signal that stops it. */
export interface RunHooks {
  reporter: Reporter;
  emit: (record: ItemRecord) => void;
  signal: AbortSignal;
}

export interface RunResult {
  progress: Progress;
  requests: number;
  cents: number;
  scan: ScanState | undefined;
  stop: StopReason | undefined;
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
  if (session.archive.droppedLines > 0) {
    notice(`the archive journal had ${session.archive.droppedLines} unreadable line(s), left by a crash or a full disk mid-write; dropped, nothing complete was lost`);
  }
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
  try {
    await run.queue.drain();
  } finally {
    await session.close();
  }
  const { progress, failures } = run.items;
  const { requests, cents } = run.client.cost;
  progress.cents = cents;
  const interrupted = hooks.signal.aborted;
  return { ...paged, progress, requests, cents, failures, interrupted, stop: interrupted ? 'interrupted' : paged.stop, error: paged.error ?? run.rateLimited };
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
    this.client = new ApiClient({ apiBase: config.apiBase, apiKey: config.apiKey, timeoutMs: config.timeoutMs, minRate: config.minRate, dispatcher, retry });
    this.queue = new DownloadQueue(config.concurrency, hooks.signal);
    const save: SaveContext = {
      archive,
      fetch: { dispatcher, allowHosts: config.allowHosts, timeoutMs: config.timeoutMs, minRate: config.minRate, maxFileSize: config.maxFileSize, retry, tmpDir: archive.tmpDir, out: config.out },
      nameFor: (item, ext) => renderFilename(config.filename, item, ext),
      dryRun: config.dryRun,
      onRateLimited: (error) => (this.rateLimited ??= error),
    };
    this.items = new ItemHandler(config, archive, this.queue, save, (record) => {
      this.items.progress.cents = this.client.cost.cents;
      hooks.emit(record);
      hooks.reporter.progress(this.items.progress);
    });
    this.requestsLeft = config.maxPages ?? Number.POSITIVE_INFINITY;
  }

  /** What earlier runs left pending, then the user's pages; an API error ends paging, not the run. */
  async page(): Promise<Paged> {
    const { archive } = this.session;
    const paged: Paged = { scan: undefined, stop: undefined, error: undefined };
    try {
      checkArchivedFiles(archive);
      for (const item of archive.pending()) this.items.handle(item, false);
      const userId = await resolveUser(this.config, archive, this.client, this.mayRequest);
      paged.scan = archive.scanOf(userId);
      paged.stop = await this.pageUser(userId, (scan) => (paged.scan = scan));
    } catch (error) {
      if (this.hooks.signal.aborted) return paged;
      if (!(error instanceof XmdError) || error instanceof UsageError) throw error;
      paged.error = error;
      paged.stop = stopFor(error);
    }
    return paged;
  }

  private readonly mayRequest = (): boolean => this.requestsLeft-- > 0;

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
      const step = await pager.next();
      if (step.done) return step.value;
      items.progress.pages += 1;
      onScan(step.value.scan);
      const found = step.value.tweets.map((tweet) => normalizeTweet(tweet));
      this.session.archive.recordPage(userId, found.flatMap((f) => f.items), step.value.scan);
      for (const { items: pageItems, problems } of found) {
        for (const problem of problems) items.emit(problemRecord(problem));
        for (const item of pageItems) items.handle(item, true);
      }
    }
  }
}

/** Each media item once per run: planned, then skipped, queued, or recorded as planned. */
class ItemHandler {
  readonly progress: Progress = emptyProgress();
  readonly failures: ItemRecord[] = [];
  private readonly handled = new Set<string>();
  private readonly planOptions: PlanOptions;

  constructor(
    config: Config,
    private readonly archive: Archive,
    private readonly queue: DownloadQueue,
    private readonly save: SaveContext,
    private readonly report: (record: ItemRecord) => void,
  ) {
    this.planOptions = { types: config.types, includeReposts: config.includeReposts, since: config.since, until: config.until };
  }

  emit(record: ItemRecord): void {
    if (record.status === 'failed') this.failures.push(record);
    this.progress[record.status] += 1;
    if (record.bytes !== undefined && record.status === 'downloaded') this.progress.bytes += record.bytes;
    this.report(record);
  }

  /** `seenOnPage`: found by this run's paging, rather than left pending by an earlier run. */
  handle(item: MediaItem, seenOnPage: boolean): void {
    const key = item.media.media_key;
    if (this.handled.has(key)) return;
    const plan = planItem(item, this.planOptions);
    // A pending item that today's filters leave out waits, silently, for a run that wants it.
    if (plan.kind === 'skip' && !seenOnPage) return;
    this.handled.add(key);
    this.progress.found += 1;
    if (plan.kind === 'skip') return this.emit(toRecord(item, 'skipped', { reason: plan.reason }));
    const archived = this.archive.files.get(key);
    // A dry run has nothing to queue unless there is a file to check.
    if (this.save.dryRun && (archived === undefined || archived.upgradable)) return this.emit(toRecord(item, 'planned'));
    this.queue.schedule(archived?.bytes ?? estimatedBytes(plan), async () => this.emit(await saveItem(plan, this.save)));
  }
}

function stopFor(error: XmdError): StopReason {
  if (error instanceof ApiCreditsError) return 'out-of-credits';
  if (error instanceof ApiAuthError) return 'key-rejected';
  if (error instanceof RateLimitedError) return 'rate-limited';
  if (error instanceof PayloadError) return 'unreadable-page';
  return 'api-failed';
}

async function resolveUser(config: Config, archive: Archive, client: ApiClient, mayRequest: () => boolean): Promise<string> {
  if (config.user.kind === 'id') return config.user.id;
  const { handle } = config.user;
  const known = archive.handles.get(handle);
  if (known) return known;
  if (!mayRequest()) throw new UsageError(`--max-pages leaves no request to look up @${handle}; pass the numeric id or raise --max-pages`);
  const userId = await client.userIdOf(handle);
  if (userId === undefined) throw new UsageError(`@${handle} does not exist on X (agntdata has no such user); check the handle`);
  archive.rememberHandle(handle, userId);
  return userId;
}

/** Files the user deleted or truncated since they were archived are fetched again. */
function checkArchivedFiles(archive: Archive): void {
  for (const file of [...archive.files.values()]) {
    let size: number | undefined;
    try {
      size = fs.statSync(path.join(archive.out, file.path)).size;
    } catch {
      size = undefined;
    }
    if (size !== file.bytes) archive.forgetFile(file.media_key);
  }
}
