import type { Archive } from '../archive/state.js';
import { isIntact } from '../archive/files.js';
import { RateLimitedError, TransferError, XmdError } from '../errors.js';
import { toRecord } from '../output/records.js';
import type { ArchivedFile, DownloadPlan, ItemRecord, MediaItem } from '../types.js';
import { fetchFile, type FetchContext } from './fetch.js';

/** What saving an item needs: the archive it is journaled in and how files are fetched. */
export interface SaveContext {
  archive: Archive;
  fetch: FetchContext;
  /** The path, relative to --out, a new file of this item gets once its extension is known. */
  nameFor: (item: MediaItem, ext: string) => string;
  dryRun: boolean;
  /** The CDN's 429s outlasted --max-wait: the run ends with exit 4 once the queue is done. */
  onRateLimited: (error: RateLimitedError) => void;
}

/**
 * One planned item, from plan to disk, in a fixed order: already archived and intact → `exists`;
 * a dry run → `planned`; else fetch → journal → `downloaded`. A failure is a `failed` record;
 * only an interruption or a bug (a journal that cannot be written) throws.
 */
export async function saveItem(plan: DownloadPlan, context: SaveContext): Promise<ItemRecord> {
  const { item } = plan;
  const key = item.media.media_key;
  const archived = context.archive.fileOf(key);
  if (archived && !archived.upgradable) {
    if (await isIntact(context.fetch.out, archived)) return toRecord(item, 'exists', { file: archived });
    // Deleted or damaged since it was archived: forget it, so a failure now is retried next run.
    context.archive.forgetFile(key);
  }
  if (context.dryRun) return toRecord(item, 'planned');
  // A file saved from a fallback size keeps its path; a forgotten one was never kept.
  const keptPath = archived?.upgradable ? archived.path : undefined;
  return downloadItem(plan, context, keptPath);
}

/** Fetch, verify, rename, journal. `keptPath` is where the item's file already lives, if anywhere. */
export async function downloadItem(plan: DownloadPlan, context: SaveContext, keptPath: string | undefined): Promise<ItemRecord> {
  const { item } = plan;
  const key = item.media.media_key;
  try {
    const saved = await fetchFile(
      {
        mediaKey: key,
        type: item.media.type,
        sources: plan.sources,
        ext: plan.ext,
        pathFor: (ext) => context.archive.pathFor(key, keptPath ?? context.nameFor(item, ext)),
        mtime: item.tweet.created_at ? new Date(item.tweet.created_at) : undefined,
      },
      context.fetch,
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
    context.archive.recordFile(file);
    return toRecord(item, 'downloaded', { file });
  } catch (error) {
    if (context.fetch.retry.signal.aborted) throw error;
    if (error instanceof RateLimitedError) context.onRateLimited(error);
    if (error instanceof TransferError || error instanceof XmdError) return toRecord(item, 'failed', { reason: error.message });
    return toRecord(item, 'failed', { reason: `unexpected error: ${error instanceof Error ? error.message : String(error)}` });
  }
}

/**
 * What a download will weigh, to order the queue: a video's bit rate × duration, which X's
 * variants give; photos (at most a few MB, sizes unknown) come after, in the order found.
 */
export function estimatedBytes(plan: DownloadPlan): number {
  const { media } = plan.item;
  const variant = media.variants?.find((v) => v.url === plan.sources[0]?.url);
  if (variant?.bit_rate === undefined || media.duration_ms === undefined) return 0;
  return (variant.bit_rate * media.duration_ms) / 8000;
}
