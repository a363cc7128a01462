import type { Archive } from './archive/state.js';
import type { Config } from './config.js';
import type { DownloadQueue } from './download/queue.js';
import { estimatedBytes, saveItem, type SaveContext } from './download/save.js';
import { planItem, type PlanOptions } from './media/plan.js';
import { toRecord } from './output/records.js';
import { emptyProgress, type Progress } from './output/summary.js';
import type { ItemRecord, MediaItem } from './types.js';

/** Failures the summary names one by one; the rest are counted (and all are in --json). */
const FAILURES_SHOWN = 20;

/**
 * Each media item once per run: planned, then skipped, queued for saving, or recorded as
 * planned (a dry run); every record it ends with is counted and passed on.
 */
export class ItemHandler {
  readonly progress: Progress = emptyProgress();
  /** The first failures, for the summary (all of them are counted in `progress.failed`). */
  readonly failures: ItemRecord[] = [];
  /** Items this run meant to have on disk (download plans); what is not there at the end waits. */
  private wanted = 0;
  /** Files saved this run, by account (the tweet's author). */
  private readonly saved = new Map<string, number>();
  private readonly planOptions: PlanOptions;
  /** Whether `settled` will be asked (metadata sidecars wait on their tweets' items); off, nothing is tracked. */
  trackSettling = false;
  /** Items queued and not yet saved or failed, by media key: what `settled` waits on. */
  private readonly unsettled = new Map<string, { done: Promise<void>; settle: () => void }>();

  constructor(
    config: Config,
    private readonly archive: Archive,
    private readonly queue: DownloadQueue,
    private readonly save: SaveContext,
    private readonly report: (record: ItemRecord) => void,
  ) {
    this.planOptions = { types: config.types, includeReposts: config.includeReposts, allowHosts: config.allowHosts, since: config.since, until: config.until };
  }

  emit(record: ItemRecord): void {
    if (record.status === 'failed') this.noteFailure(record);
    else this.progress[record.status] += 1;
    if (record.status === 'downloaded') {
      this.progress.bytes += record.bytes ?? 0;
      if (record.author_id !== undefined) this.saved.set(record.author_id, (this.saved.get(record.author_id) ?? 0) + 1);
    }
    this.report(record);
  }

  /** A failure counted and kept for the summary (the first FAILURES_SHOWN of them). */
  noteFailure(record: ItemRecord): void {
    if (this.failures.length < FAILURES_SHOWN) this.failures.push(record);
    this.progress.failed += 1;
  }

  downloadedFor(userId: string): number {
    return this.saved.get(userId) ?? 0;
  }

  /** Items this run wanted on disk that are not there: failed, or never started (interrupted). */
  get waiting(): number {
    return this.save.dryRun ? 0 : this.wanted - this.progress.downloaded - this.progress.exists;
  }

  /** `seenOnPage`: found by this run's paging, rather than left pending by an earlier run. */
  handle(item: MediaItem, seenOnPage: boolean): void {
    const key = item.media.media_key;
    if (this.archive.isHandled(key)) return;
    const plan = planItem(item, this.planOptions);
    // A pending item that today's filters leave out waits, silently, for a run that wants it.
    if (plan.kind === 'skip' && !seenOnPage) return;
    this.archive.markHandled(key);
    this.progress.found += 1;
    if (plan.kind === 'skip') return this.emit(toRecord(item, 'skipped', { reason: plan.reason }));
    const archived = this.archive.fileOf(key);
    // A dry run has nothing to queue unless there is a file to check.
    if (this.save.dryRun && (archived === undefined || archived.upgradable)) return this.emit(toRecord(item, 'planned'));
    this.wanted += 1;
    const settle = this.trackSettling ? this.track(key) : undefined;
    this.queue.schedule(archived?.bytes ?? estimatedBytes(plan), async () => {
      try {
        this.emit(await saveItem(plan, this.save));
      } finally {
        settle?.();
      }
    });
  }

  /** Resolves once none of these items waits in the queue or is being saved. */
  async settled(mediaKeys: Iterable<string>): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const key of mediaKeys) {
      const wait = this.unsettled.get(key);
      if (wait) waits.push(wait.done);
    }
    await Promise.all(waits);
  }

  /** After the queue is drained: the items it never started (an interruption) settle too. */
  settleAll(): void {
    for (const wait of [...this.unsettled.values()]) wait.settle();
  }

  private track(key: string): () => void {
    let resolve: (() => void) | undefined;
    const done = new Promise<void>((r) => {
      resolve = () => r();
    });
    const settle = () => {
      this.unsettled.delete(key);
      resolve?.();
    };
    this.unsettled.set(key, { done, settle });
    return settle;
  }
}
