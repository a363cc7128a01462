import type { TweetFacts } from '../types.js';
import { createdAtMs, isTweetTime, parseDateText } from './dates.js';
import {
  isRecord,
  joinPath,
  MediaFieldsSchema,
  PageTweetSchema,
  QUOTE_KEY,
  readFields,
  REPOST_KEYS,
  TweetIdsSchema,
  TweetMediaSchema,
  UserSchema,
  V1VariantSchema,
  VideoInfoFieldsSchema,
  type FieldIssue,
  type Fields,
  type V1Media,
  type V1Variant,
} from './schema.js';

/**
 * A payload's tweet as far as the archive reads it, level by level (see schema.ts): each level
 * read by its own function, to a fixed depth, whatever the input nests. Every bad value becomes
 * an issue and is left out; only a tweet that is no object or has a bad id is dropped whole.
 */

export type TweetMedia = Fields<typeof TweetMediaSchema.shape>;

/** What every level has: the tweet's id (when it sent one), its author and what holds its media. */
export interface TweetLevel {
  id: string | undefined;
  user: Fields<typeof UserSchema.shape>;
  media: TweetMedia;
  /** `extended_entities` was sent but is unreadable: its media are lost, not guessed from `media_url`. */
  entitiesUnreadable: boolean;
}

/** Level 1, a retweet: it may carry the quote it retweeted. */
export interface RetweetedTweet extends TweetLevel {
  quoted: TweetLevel | undefined;
}

/** Level 0, a page's tweet. */
export interface PageTweet extends TweetLevel {
  page: Fields<typeof PageTweetSchema.shape>;
  repost: RetweetedTweet | undefined;
  quoted: TweetLevel | undefined;
}

const DEEPER = 'nested deeper than the archive reads; not read';

export function readPageTweet(raw: unknown, issues: FieldIssue[]): PageTweet | undefined {
  const own = readLevel(raw, '', issues, []);
  if (!own || !isRecord(raw)) return undefined;
  const page = readFields(PageTweetSchema.shape, raw, '', issues) ?? {};
  const repostKey = REPOST_KEYS.find((key) => present(raw[key]));
  const repost = repostKey === undefined ? undefined : readRetweeted(raw[repostKey], repostKey, issues);
  const quoted = present(raw[QUOTE_KEY]) ? readQuoted(raw[QUOTE_KEY], QUOTE_KEY, issues) : undefined;
  return { ...own, page, repost, quoted };
}

function readRetweeted(raw: unknown, at: string, issues: FieldIssue[]): RetweetedTweet | undefined {
  const own = readLevel(raw, at, issues, REPOST_KEYS);
  if (!own || !isRecord(raw)) return undefined;
  const quoted = present(raw[QUOTE_KEY]) ? readQuoted(raw[QUOTE_KEY], joinPath(at, QUOTE_KEY), issues) : undefined;
  return { ...own, quoted };
}

/** A quote, at level 1 or (in a retweet) level 2: nothing nested in it is read. */
function readQuoted(raw: unknown, at: string, issues: FieldIssue[]): TweetLevel | undefined {
  return readLevel(raw, at, issues, [...REPOST_KEYS, QUOTE_KEY]);
}

/** `deeper`: the keys that would nest past what the archive reads, reported when sent. */
function readLevel(raw: unknown, at: string, issues: FieldIssue[], deeper: readonly string[]): TweetLevel | undefined {
  const before = issues.length;
  const ids = readFields(TweetIdsSchema.shape, raw, at, issues);
  if (!ids || issues.length > before || !isRecord(raw)) return undefined;
  const user = present(raw['user']) ? (readFields(UserSchema.shape, raw['user'], joinPath(at, 'user'), issues) ?? {}) : {};
  const media = readFields(TweetMediaSchema.shape, raw, at, issues) ?? {};
  for (const key of deeper) if (present(raw[key])) issues.push({ path: joinPath(at, key), message: DEEPER });
  const entitiesUnreadable = (present(raw['extended_entities']) && !media.extended_entities) || (present(raw['extended_tweet']) && !media.extended_tweet);
  return { id: ids.tweet_id ?? ids.id_str, user, media, entitiesUnreadable };
}

/**
 * One `extended_entities.media[]` entry. Undefined when it can give no file: a bad id or type,
 * or nothing left to fetch because a URL was bad. Any other bad field is left out.
 */
export function readMedia(raw: unknown, at: string, issues: FieldIssue[]): V1Media | undefined {
  const before = issues.length;
  const fields = readFields(MediaFieldsSchema.shape, raw, at, issues);
  if (!fields || !isRecord(raw)) return undefined;
  const videoInfo = present(raw['video_info']) ? readVideoInfo(raw['video_info'], joinPath(at, 'video_info'), issues) : undefined;
  const { id_str: id, type } = fields;
  if (id === undefined || type === undefined) return undefined;
  const media: V1Media = { ...fields, id_str: id, type, ...(videoInfo ? { video_info: videoInfo } : {}) };
  const fetchable = type === 'photo' ? (fields.media_url_https ?? fields.media_url) !== undefined : (videoInfo?.variants.length ?? 0) > 0;
  return fetchable || issues.length === before ? media : undefined;
}

function readVideoInfo(raw: unknown, at: string, issues: FieldIssue[]): NonNullable<V1Media['video_info']> | undefined {
  const fields = readFields(VideoInfoFieldsSchema.shape, raw, at, issues);
  if (!fields) return undefined;
  const variants = (fields.variants ?? []).flatMap((variant, index) => readVariant(variant, joinPath(at, 'variants', String(index)), issues) ?? []);
  return { ...fields, variants };
}

/** A video variant; undefined without a content type or an http(s) URL. A bad bitrate is left out. */
export function readVariant(raw: unknown, at: string, issues: FieldIssue[]): V1Variant | undefined {
  const fields = readFields(V1VariantSchema.shape, raw, at, issues);
  if (fields?.content_type === undefined || fields.url === undefined) return undefined;
  return { ...fields, content_type: fields.content_type, url: fields.url };
}

/**
 * What the pager needs of a page's tweet, without the media layer's types: its snowflake id, its
 * creation time in epoch ms (the normalizer's date rules) and when its author's account was
 * created, each undefined when unknown or out of range. Never throws.
 */
export function tweetFacts(raw: unknown): TweetFacts {
  const idIssues: FieldIssue[] = [];
  const ids = readFields(TweetIdsSchema.shape, raw, '', idIssues);
  const id = idIssues.length === 0 ? (ids?.tweet_id ?? ids?.id_str) : undefined;
  const dates = readFields(PageTweetSchema.shape, raw, '', []) ?? {};
  const user = isRecord(raw) ? raw['user'] : undefined;
  const since = isRecord(user) && typeof user['creation_date'] === 'string' ? parseDateText(user['creation_date']) : Number.NaN;
  return { id: id === undefined ? undefined : BigInt(id), time: createdAtMs(dates, id), authorCreated: isTweetTime(since) ? since : undefined };
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}
