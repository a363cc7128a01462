import fs from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import type { Archive } from './archive/state.js';
import type { Config } from './config.js';
import { downloadFile, hashFile, TransferFailed, type DownloadContext } from './download.js';
import { RateLimitedError, XmdError } from './errors.js';
import { renderFilename } from './media/filename.js';
import { toRecord } from './output/records.js';
import type { ArchivedFile, ItemRecord, Plan } from './types.js';

/**
 * The download queue: at most --concurrency transfers (p-limit), largest known first, each
 * ending as a record. Nothing throws past it but interruptions and bugs (see drain).
 */
export class Saver {
  private readonly limit;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waiting = new LargestFirst();
  private seq = 0;
  private readonly errors: unknown[] = [];
  rateLimited: RateLimitedError | undefined;
  constructor(
    private readonly archive: Archive,
    private readonly config: Pick<Config, 'out' | 'filename' | 'concurrency'>,
    private readonly context: DownloadContext,
  ) {
    this.limit = pLimit(config.concurrency);
  }

  /**
   * Queue a task; when a slot frees, the largest waiting task (by `bytes`, an estimate) starts,
   * the first queued among equals. Longest first keeps one big video from starting last and
   * running alone at the end: on a real timeline that tail is 10-20% of the wall time.
   */
  schedule(bytes: number, task: () => Promise<void>): void {
    this.waiting.push({ bytes, seq: this.seq++, task });
    const run = this.limit(async () => {
      // Each slot runs whichever task is best now, not necessarily the one queued with it.
      const next = this.waiting.pop();
      if (next === undefined || this.context.retry.signal.aborted) return;
      try {
        await next.task();
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

/**
 * What a download will weigh, to order the queue: a video's bit rate × duration, which X's
 * variants give; photos (at most a few MB, sizes unknown) come after, in the order found.
 */
export function estimatedBytes(plan: Extract<Plan, { kind: 'download' }>): number {
  const { media } = plan.item;
  const variant = media.variants?.find((v) => v.url === plan.sources[0]?.url);
  if (variant?.bit_rate === undefined || media.duration_ms === undefined) return 0;
  return (variant.bit_rate * media.duration_ms) / 8000;
}

interface Waiting {
  bytes: number;
  seq: number;
  task: () => Promise<void>;
}

/** A binary max-heap on (bytes, then earliest seq). */
class LargestFirst {
  private readonly heap: Waiting[] = [];

  push(entry: Waiting): void {
    const heap = this.heap;
    heap.push(entry);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent] as Waiting)) break;
      heap[i] = heap[parent] as Waiting;
      heap[parent] = entry;
      i = parent;
    }
  }

  pop(): Waiting | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let best = i;
      if (left < heap.length && before(heap[left] as Waiting, heap[best] as Waiting)) best = left;
      if (right < heap.length && before(heap[right] as Waiting, heap[best] as Waiting)) best = right;
      if (best === i) break;
      [heap[i], heap[best]] = [heap[best] as Waiting, heap[i] as Waiting];
      i = best;
    }
    return top;
  }
}

function before(a: Waiting, b: Waiting): boolean {
  return a.bytes > b.bytes || (a.bytes === b.bytes && a.seq < b.seq);
}

/** Size and sha256 both match what was recorded. */
export async function isIntact(out: string, file: ArchivedFile): Promise<boolean> {
  const target = path.join(out, file.path);
  try {
    if ((await fs.promises.stat(target)).size !== file.bytes) return false;
    const whole = await hashFile(target);
    return whole !== undefined && whole.bytes === file.bytes && whole.hash.digest('hex') === file.sha256;
  } catch {
    return false;
  }
}
