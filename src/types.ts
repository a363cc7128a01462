/** The data the pipeline stages pass to each other. */

export type MediaType = 'photo' | 'video' | 'animated_gif';
export const MEDIA_TYPES: readonly MediaType[] = ['photo', 'video', 'animated_gif'];

/** An X API v2 Media object; fields that are unknown are left out, never null. */
export interface Media {
  media_key: string;
  type: MediaType;
  url?: string;
  preview_image_url?: string;
  width?: number;
  height?: number;
  duration_ms?: number;
  alt_text?: string;
  variants?: Variant[];
  public_metrics?: { view_count: number };
}

export type Variant = {
  bit_rate?: number;
  content_type: string;
  url: string;
};

/** The tweet a media item was found in. `source_*` name the original of a repost or quote. */
export interface TweetContext {
  tweet_id: string;
  created_at?: string;
  author_id?: string;
  username?: string;
  source_tweet_id?: string;
  source_username?: string;
}

/** One media item as discovered: what the archive journals before anything is downloaded. */
export interface MediaItem {
  media: Media;
  tweet: TweetContext;
  /** 1-based position within the tweet. */
  n: number;
  /** `ext_media_availability.status` when the payload gave one. */
  availability?: string;
}

/** Something on a page that could not become a media item. */
export interface MediaProblem {
  tweet_id: string;
  media_key?: string;
  reason: string;
}

/** One URL to try for a file, best first; `quality` is what the record says was saved. */
export interface FileSource {
  url: string;
  quality: string;
  /** Try the next source when this one answers 404 (photo sizes). */
  fallbackOn404: boolean;
}

export type Plan =
  | { kind: 'download'; item: MediaItem; sources: FileSource[]; ext: string | undefined }
  | { kind: 'skip'; item: MediaItem; reason: string };
export type DownloadPlan = Extract<Plan, { kind: 'download' }>;

/** A file in the archive: written only after it was verified and renamed into place. */
export interface ArchivedFile {
  media_key: string;
  path: string;
  bytes: number;
  sha256: string;
  source_url: string;
  quality: string;
  /** Saved from a fallback because a better source failed transiently: a later run tries again. */
  upgradable?: boolean;
}

export type ItemStatus = 'downloaded' | 'exists' | 'planned' | 'skipped' | 'failed';

/**
 * One NDJSON line: v2 fields at the top level, then tweet context, then what happened. Its
 * published contract is MediaRecordSchema (src/output/schemas.ts); a test keeps the two equal.
 */
export type ItemRecord = Partial<Media> &
  Partial<TweetContext> & {
    status: ItemStatus;
    reason?: string;
    path?: string;
    bytes?: number;
    sha256?: string;
    source_url?: string;
    quality?: string;
  };

/**
 * Where paging stands for one user. `head` is the newest tweet id seen: the next head scan
 * stops at it. `gaps` are stretches of history still to page through, newest first, each a
 * continuation token and the tweet id where it joins what is known (`floor`; none for the
 * backfill to the end of history). A run that stops early leaves a gap, never a hole.
 */
export interface ScanState {
  head?: string;
  /** Creation time of the head tweet (ISO 8601). */
  headTime?: string;
  /** When the account was created (ISO 8601), as its tweets say: where the backfill must end. */
  accountCreated?: string;
  gaps: Gap[];
  complete: boolean;
  /** Pages fetched for this user over all runs. */
  pages: number;
}

/** Why a user's paging stopped: the pager's own reasons, or the API error that cut it short. */
export type StopReason =
  | 'caught-up'
  | 'history-complete'
  | 'since'
  | 'max-pages'
  | 'max-cost'
  | 'no-such-user'
  | 'token-loop'
  | 'no-progress'
  | 'interrupted'
  | 'out-of-credits'
  | 'key-rejected'
  | 'rate-limited'
  | 'api-failed'
  | 'unreadable-page'
  | 'archive-unwritable';

/** What the pager needs to know of a tweet; the media layer works it out (see tweetFacts). */
export interface TweetFacts {
  id: bigint | undefined;
  /** Creation time, epoch ms. */
  time: number | undefined;
  /** When the tweet's author created the account, epoch ms, where the tweet says. */
  authorCreated?: number | undefined;
}

export interface Gap {
  /** Page this gap from page 1 (its journal lines were lost), not from `token`, until it moves on. */
  fromStart?: true;
  token: string;
  floor?: string;
  /** Creation time of the tweet just above the gap: nothing in it is newer (lets --since skip it). */
  notAfter?: string;
}

/** The API key: printed, logged or serialized it shows only `[redacted]`. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]';
  }
}

/** One API request as it went (for `-v`): what was asked, what came back, what it cost. */
export interface ApiRequestEvent {
  method: 'GET' | 'POST';
  /** The path below the API base, with its query (`/user/medias`, `/user/details?username=…`). */
  endpoint: string;
  /** What it was for: `page 2`, `@handle`. */
  what: string;
  /** 0 for the first try, 1 for the first retry, … */
  attempt: number;
  /** The HTTP status; undefined when no answer came (a network error). */
  status: number | undefined;
  ms: number;
  /** What the API billed for it. */
  cents: number;
  /** Why it failed, when it did. */
  error?: string;
  /** Set when it is tried again: after this many milliseconds. */
  retryInMs?: number;
}
