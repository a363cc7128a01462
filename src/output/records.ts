import type { z } from 'zod';
import type { ArchivedFile, ItemRecord, ItemStatus, MediaItem } from '../types.js';
import type { MediaRecordSchema } from './schemas.js';

/**
 * One NDJSON record per media item, keys in DESIGN.md's order: the v2 Media fields, the tweet
 * context, then what happened. Fields that are unknown are left out.
 */
export function toRecord(
  item: MediaItem,
  status: ItemStatus,
  extra: { reason?: string; file?: Pick<ArchivedFile, 'path' | 'bytes' | 'sha256' | 'source_url' | 'quality'> } = {},
): ItemRecord {
  const { media, tweet } = item;
  const record: ItemRecord = {
    media_key: media.media_key,
    type: media.type,
    ...pick(media, ['url', 'preview_image_url', 'width', 'height', 'duration_ms', 'alt_text', 'variants', 'public_metrics']),
    tweet_id: tweet.tweet_id,
    ...pick(tweet, ['created_at', 'author_id', 'username', 'source_tweet_id', 'source_username']),
    status,
  };
  if (extra.reason !== undefined) record.reason = extra.reason;
  if (extra.file) {
    record.path = extra.file.path;
    record.bytes = extra.file.bytes;
    record.sha256 = extra.file.sha256;
    record.source_url = extra.file.source_url;
    record.quality = extra.file.quality;
  }
  return record;
}

/** A record for something on a page that never became a media item (a malformed tweet). */
export function problemRecord(problem: { tweet_id: string; media_key?: string; reason: string }): ItemRecord {
  return {
    ...(problem.media_key ? { media_key: problem.media_key } : {}),
    tweet_id: problem.tweet_id,
    status: 'skipped',
    reason: problem.reason,
  };
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

/** Every record the code builds fits the published schema (checked by the compiler). */
export const recordFitsSchema: (record: ItemRecord) => z.input<typeof MediaRecordSchema> = (record) => record;

/**
 * One `verify --json` line per archived file: its path, media key and the size and sha256 the
 * archive holds for it (a repaired file's new ones), then what the check found. `status`:
 * `intact`, `missing`, `corrupt`, or `repaired` (with `was`: missing or corrupt); `reason` says
 * why a repair that was tried did not succeed.
 */
export interface VerifyRecord {
  path: string;
  media_key: string;
  status: 'intact' | 'missing' | 'corrupt' | 'repaired';
  was?: 'missing' | 'corrupt';
  bytes: number;
  sha256: string;
  reason?: string;
}

export function verifyRecord(outcome: {
  file: Pick<ArchivedFile, 'path' | 'media_key' | 'bytes' | 'sha256'>;
  status: VerifyRecord['status'];
  was?: VerifyRecord['was'];
  reason?: string;
}): VerifyRecord {
  const { file } = outcome;
  return {
    path: file.path,
    media_key: file.media_key,
    status: outcome.status,
    ...(outcome.was ? { was: outcome.was } : {}),
    bytes: file.bytes,
    sha256: file.sha256,
    ...(outcome.reason ? { reason: outcome.reason } : {}),
  };
}
