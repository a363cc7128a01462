import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import type { Dispatcher } from 'undici';
import { ApiClient } from './api/client.js';
import { scanUser, type StopReason } from './api/pager.js';
import { acquireLock } from './archive/lock.js';
import { Archive, STATE_DIR } from './archive/state.js';
import type { Config } from './config.js';
import { downloadFile, TransferFailed, type DownloadContext } from './download.js';
import { RateLimitedError, UsageError, XmdError } from './errors.js';
import { renderFilename } from './media/filename.js';
import { normalizeTweet } from './media/normalize.js';
import { planItem, type PlanOptions } from './media/plan.js';
import { createDispatcher } from './net/http.js';
import { WaitBudget, type RetryContext } from './net/retry.js';
import { problemRecord, toRecord } from './output/records.js';
import { emptyProgress, type Progress, type Reporter } from './output/reporter.js';
import type { ArchivedFile, ItemRecord, MediaItem, Plan, ScanState } from './types.js';

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
 * The main job. Holds the lock; downloads what earlier runs discovered but did not save (no
 * API request); pages the head and the gaps, journaling every page's media before queueing
 * them; waits for the transfers; returns what happened. Prints nothing and never exits.
 */
export async function runArchive(config: Config, hooks: RunHooks): Promise<RunResult> {
  const release = lockArchive(config.out);
  let archive: Archive;
  try {
    archive = Archive.open(config.out, true);
  } catch (error) {
    release();
    throw error;
  }
  if (archive.droppedLines > 0) {
    hooks.reporter.notice(`the archive journal had ${archive.droppedLines} unreadable line(s), left by a crash mid-write; dropped, nothing complete was lost`);
  }
  const dispatcher = createDispatcher(config.timeoutMs, config.concurrency);
  const progress = emptyProgress();
  const retry: RetryContext = { retries: config.retries, budget: new WaitBudget(config.maxWaitMs), signal: hooks.signal, notice: (m) => hooks.reporter.notice(m) };
  const client = new ApiClient({ apiBase: config.apiBase, apiKey: config.apiKey, timeoutMs: config.timeoutMs, dispatcher, retry });
  const saver = new Saver(archive, config, { dispatcher, allowHosts: config.allowHosts, timeoutMs: config.timeoutMs, retry, tmpDir: archive.tmpDir, out: config.out });
  const failures: ItemRecord[] = [];
  const handled = new Set<string>();
  const planOptions: PlanOptions = { types: config.types, includeReposts: config.includeReposts, since: config.since, until: config.until };
  let requestsLeft = config.maxPages ?? Number.POSITIVE_INFINITY;
  const mayRequest = () => requestsLeft-- > 0;

  const emit = (record: ItemRecord) => {
    if (record.status === 'failed') failures.push(record);
    progress[record.status] += 1;
    if (record.bytes !== undefined && record.status === 'downloaded') progress.bytes += record.bytes;
    progress.cents = client.cost.cents;
    hooks.emit(record);
    hooks.reporter.progress(progress);
  };

  const handleItem = (item: MediaItem, seenOnPage: boolean) => {
    const key = item.media.media_key;
    if (handled.has(key)) return;
    const plan = planItem(item, planOptions);
    // A pending item that today's filters leave out waits, silently, for a run that wants it.
    if (plan.kind === 'skip' && !seenOnPage) return;
    handled.add(key);
    progress.found += 1;
    if (plan.kind === 'skip') return emit(toRecord(item, 'skipped', { reason: plan.reason }));
    const archived = archive.files.get(key);
    if (archived && !archived.upgradable) {
      saver.schedule(async () => {
        if (await isIntact(config.out, archived)) return emit(toRecord(item, 'exists', { file: archived }));
        archive.forgetFile(key);
        emit(await saver.save(plan));
      });
      return;
    }
    if (config.dryRun) return emit(toRecord(item, 'planned'));
    saver.schedule(async () => emit(await saver.save(plan)));
  };

  let scan: ScanState | undefined;
  let stop: StopReason | undefined;
  let error: XmdError | undefined;
  try {
    checkArchivedFiles(archive);
    for (const item of archive.pending()) handleItem(item, false);
    const userId = await resolveUser(config, archive, client, mayRequest);
    scan = archive.scanOf(userId);
    stop = await scanUser(scan, {
      client,
      userId,
      pageSize: config.pageSize,
      full: config.full,
      since: config.since,
      mayRequest,
      signal: hooks.signal,
      warn: (m) => hooks.reporter.notice(m),
      saveScan: (s) => archive.saveScan(userId, s),
      onTweets: (tweets) => {
        progress.pages += 1;
        const found = tweets.map((tweet) => normalizeTweet(tweet));
        archive.discover(found.flatMap((f) => f.items));
        for (const { items, problems } of found) {
          for (const problem of problems) emit(problemRecord(problem));
          for (const item of items) handleItem(item, true);
        }
      },
    });
  } catch (caught) {
    if (!hooks.signal.aborted) {
      // A usage problem found late (an unknown handle) is still a usage error, not a run summary.
      if (!(caught instanceof XmdError) || caught instanceof UsageError) {
        await saver.drain().finally(() => finish(archive, dispatcher, release));
        throw caught;
      }
      error = caught;
    }
  }
  // Paging has stopped, for whatever reason: what it found still gets downloaded (no API cost).
  try {
    await saver.drain();
  } finally {
    await finish(archive, dispatcher, release);
  }
  progress.cents = client.cost.cents;
  error ??= saver.rateLimited;
  return { progress, requests: client.cost.requests, cents: client.cost.cents, scan, stop, error, failures, interrupted: hooks.signal.aborted };
}

/** Downloads under the concurrency limit, each ending as a record; nothing throws past it. */
export class Saver {
  private readonly limit;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly errors: unknown[] = [];
  rateLimited: RateLimitedError | undefined;
  constructor(
    private readonly archive: Archive,
    private readonly config: Pick<Config, 'out' | 'filename' | 'concurrency'>,
    private readonly context: DownloadContext,
  ) {
    this.limit = pLimit(config.concurrency);
  }

  schedule(task: () => Promise<void>): void {
    const run = this.limit(async () => {
      if (this.context.retry.signal.aborted) return;
      try {
        await task();
      } catch (error) {
        // Interrupted mid-transfer: the temp file is gone and no record is due. Anything else
        // (a bug, a journal that cannot be written) is raised by drain().
        if (!this.context.retry.signal.aborted) this.errors.push(error);
      }
    });
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  /** Wait for every scheduled task; then raise the first unexpected error, if any. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.errors.length > 0) throw this.errors[0];
  }

  /** Fetch, verify, rename, journal: the record says how it went. */
  async save(plan: Extract<Plan, { kind: 'download' }>): Promise<ItemRecord> {
    const { item } = plan;
    const key = item.media.media_key;
    const previous = this.archive.files.get(key);
    try {
      const saved = await downloadFile(
        {
          mediaKey: key,
          sources: plan.sources,
          ext: plan.ext,
          pathFor: (ext) => this.archive.pathFor(key, previous?.path ?? renderFilename(this.config.filename, item, ext)),
          mtime: item.tweet.created_at ? new Date(item.tweet.created_at) : undefined,
        },
        this.context,
      );
      const file: ArchivedFile = {
        media_key: key,
        path: saved.path,
        bytes: saved.bytes,
        sha256: saved.sha256,
        source_url: saved.source_url,
        quality: saved.quality,
        ...(saved.upgradable ? { upgradable: true } : {}),
      };
      this.archive.recordFile(file);
      return toRecord(item, 'downloaded', { file });
    } catch (error) {
      if (this.context.retry.signal.aborted) throw error;
      // The CDN's 429s outlasting --max-wait end the run as the API's would (exit 4).
      if (error instanceof RateLimitedError) this.rateLimited ??= error;
      if (error instanceof TransferFailed || error instanceof XmdError) return toRecord(item, 'failed', { reason: error.message });
      return toRecord(item, 'failed', { reason: `unexpected error: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
}

function lockArchive(out: string): () => void {
  try {
    return acquireLock(path.join(out, STATE_DIR), out);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EEXIST') {
      throw new UsageError(`cannot use --out ${out}: ${code}; pick a folder you can write to`);
    }
    throw error;
  }
}

async function finish(archive: Archive, dispatcher: Dispatcher, release: () => void): Promise<void> {
  archive.close();
  release();
  await dispatcher.close().catch(() => undefined);
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

/** Size and sha256 both match what was recorded. */
export async function isIntact(out: string, file: ArchivedFile): Promise<boolean> {
  const target = path.join(out, file.path);
  try {
    if ((await fs.promises.stat(target)).size !== file.bytes) return false;
    const hash = createHash('sha256');
    await pipeline(fs.createReadStream(target, { highWaterMark: 1 << 20 }), hash);
    return hash.digest('hex') === file.sha256;
  } catch {
    return false;
  }
}
