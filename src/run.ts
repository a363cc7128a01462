import fs from 'node:fs';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { ApiClient } from './api/client.js';
import { scanUser } from './api/pager.js';
import { acquireLock } from './archive/lock.js';
import { Archive, STATE_DIR } from './archive/state.js';
import type { Config } from './config.js';
import { UsageError, XmdError } from './errors.js';
import { normalizeTweet } from './media/normalize.js';
import { planItem, type PlanOptions } from './media/plan.js';
import { createDispatcher } from './net/http.js';
import { WaitBudget, type RetryContext } from './net/retry.js';
import { problemRecord, toRecord } from './output/records.js';
import { estimatedBytes, isIntact, Saver } from './queue.js';
import { emptyProgress, type Progress, type Reporter } from './output/reporter.js';
import type { ItemRecord, MediaItem, ScanState } from './types.js';

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
    hooks.reporter.notice(`the archive journal had ${archive.droppedLines} unreadable line(s), left by a crash or a full disk mid-write; dropped, nothing complete was lost`);
  }
  const dispatcher = createDispatcher(config.timeoutMs, config.concurrency);
  const progress = emptyProgress();
  const retry: RetryContext = { retries: config.retries, budget: new WaitBudget(config.maxWaitMs), signal: hooks.signal, notice: (m) => hooks.reporter.notice(m) };
  const client = new ApiClient({ apiBase: config.apiBase, apiKey: config.apiKey, timeoutMs: config.timeoutMs, dispatcher, retry });
  const saver = new Saver(archive, config, { dispatcher, allowHosts: config.allowHosts, timeoutMs: config.timeoutMs, retry, tmpDir: archive.tmpDir, out: config.out });
  const failures: ItemRecord[] = [];
  const handled = new Set<string>();
  const planOptions: PlanOptions = { types: config.types, includeReposts: config.includeReposts, allowHosts: config.allowHosts, since: config.since, until: config.until };
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
      saver.schedule(archived.bytes, async () => {
        if (await isIntact(config.out, archived)) return emit(toRecord(item, 'exists', { file: archived }));
        archive.forgetFile(key);
        emit(await saver.save(plan));
      });
      return;
    }
    if (config.dryRun) return emit(toRecord(item, 'planned'));
    saver.schedule(estimatedBytes(plan), async () => emit(await saver.save(plan)));
  };

  let scan: ScanState | undefined;
  let error: XmdError | undefined;
  try {
    checkArchivedFiles(archive);
    for (const item of archive.pending()) handleItem(item, false);
    const userId = await resolveUser(config, archive, client, mayRequest);
    scan = archive.scanOf(userId);
    await scanUser(scan, {
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
  return { progress, requests: client.cost.requests, cents: client.cost.cents, scan, error, failures, interrupted: hooks.signal.aborted };
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
