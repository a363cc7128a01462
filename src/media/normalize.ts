import type { Media, MediaItem, MediaProblem, MediaType, TweetContext, Variant } from '../types.js';
import { createdAt } from './dates.js';
import { readMedia, readPageTweet, readVariant, type PageTweet, type TweetLevel } from './read.js';
import { describeFieldIssues, HttpUrlSchema, isRecord, isSnowflake, ViewCountSchema, type FieldIssue, type V1Media } from './schema.js';

export { createdAt } from './dates.js';
export { tweetFacts } from './read.js';

const KEY_PREFIX: Record<MediaType, string> = { photo: '3', video: '7', animated_gif: '16' };

type Found = { items: MediaItem[]; problems: MediaProblem[] };

/**
 * One v1.1 media object → one v2 Media object. Shared by agntdata's wrapper and X's own v1.1
 * payloads. The payload's `media_key` wins (amplify videos carry `13_…`).
 */
export function normalizeMedia(raw: V1Media, tweetViewCount?: number): Media {
  const media: Media = {
    media_key: raw.media_key ?? `${KEY_PREFIX[raw.type]}_${raw.id_str}`,
    type: raw.type,
  };
  const imageUrl = raw.media_url_https ?? raw.media_url ?? undefined;
  if (imageUrl !== undefined) {
    if (raw.type === 'photo') media.url = imageUrl;
    else media.preview_image_url = imageUrl;
  }
  const size = pixelSize(raw);
  if (size) {
    media.width = size.width;
    media.height = size.height;
  }
  const duration = raw.video_info?.duration_millis;
  if (raw.type === 'video' && typeof duration === 'number') media.duration_ms = duration;
  if (typeof raw.ext_alt_text === 'string') media.alt_text = raw.ext_alt_text;
  if (raw.type !== 'photo' && raw.video_info) {
    media.variants = raw.video_info.variants.map((v) => toVariant(v.bitrate, v.content_type, v.url));
  }
  const views = mediaViewCount(raw) ?? tweetViewCount;
  if (views !== undefined) media.public_metrics = { view_count: views };
  return media;
}

/**
 * One tweet → its media items (own first, then the reposted or quoted tweet's, numbered on),
 * and the problems: one for the tweet's own fields, one per media entry. Never throws, whatever
 * `raw` is. A bad value costs that value (or that media, when it was its id, type or URL),
 * never the rest of the tweet. Reposted and quoted media are items of the reposting tweet, once
 * per media_key, with the original's id in `source_tweet_id`: an account's archive is what it
 * showed (`--no-retweets` filters them in the planner).
 */
export function normalizeTweet(raw: unknown): Found {
  const issues: FieldIssue[] = [];
  const tweet = readPageTweet(raw, issues);
  if (!tweet) {
    return { items: [], problems: [{ tweet_id: validIdOf(raw) ?? '?', reason: `invalid tweet ${shownIdOf(raw)}: ${describeFieldIssues(issues)}` }] };
  }
  if (tweet.id === undefined) return { items: [], problems: [{ tweet_id: '?', reason: 'invalid tweet: tweet_id: missing' }] };

  const context = tweetContext(tweet, tweet.id);
  const items: MediaItem[] = [];
  const problems: MediaProblem[] = issues.length === 0 ? [] : [{ tweet_id: tweet.id, reason: `invalid tweet ${tweet.id}: ${describeFieldIssues(issues)}` }];
  const seen = new Set<string>();
  const add = (found: Found) => {
    for (const item of found.items) {
      if (seen.has(item.media.media_key)) continue;
      seen.add(item.media.media_key);
      items.push({ ...item, n: items.length + 1 });
    }
    problems.push(...found.problems);
  };

  const { repost } = tweet;
  // A retweet's own entities copy the original's: take them from the original, with its id.
  if (repost) {
    const reposted = mediaOfTweetAndQuote(repost, repost.quoted, context);
    const empty = reposted.items.length === 0 && reposted.problems.length === 0;
    add(empty ? ownMedia(tweet, withSource(context, repost)) : reposted);
  } else if (tweet.page.retweet_tweet_id) {
    add(ownMedia(tweet, { ...context, source_tweet_id: tweet.page.retweet_tweet_id }));
  } else {
    add(ownMedia(tweet, context));
  }
  if (tweet.quoted) add(mediaOfTweetAndQuote(tweet.quoted, undefined, context));
  return { items, problems };
}

function mediaOfTweetAndQuote(source: TweetLevel, quoted: TweetLevel | undefined, context: TweetContext): Found {
  const own = ownMedia(source, withSource(context, source));
  if (!quoted) return own;
  const fromQuote = ownMedia(quoted, withSource(context, quoted));
  return { items: [...own.items, ...fromQuote.items], problems: [...own.problems, ...fromQuote.problems] };
}

function withSource(context: TweetContext, source: TweetLevel): TweetContext {
  const username = source.user.username ?? source.user.screen_name;
  return {
    ...context,
    ...(source.id ? { source_tweet_id: source.id } : {}),
    ...(username ? { source_username: username } : {}),
  };
}

function ownMedia(tweet: TweetLevel, context: TweetContext): Found {
  const { media: fields } = tweet;
  if (tweet.entitiesUnreadable) return { items: [], problems: [] };
  const field = fields.extended_entities ? 'extended_entities' : 'extended_tweet.extended_entities';
  const rawMedia = (fields.extended_entities ?? fields.extended_tweet?.extended_entities)?.media ?? [];
  if (rawMedia.length === 0) return fallbackMedia(tweet, context);
  const where = context.source_tweet_id ?? context.tweet_id;
  // The tweet's count is a video's views: it belongs to its media only when that is one video.
  const videoViews = rawMedia.length === 1 ? fields.video_view_count : undefined;
  const items: MediaItem[] = [];
  const problems: MediaProblem[] = [];
  rawMedia.forEach((entry, index) => {
    const issues: FieldIssue[] = [];
    const parsed = readMedia(entry, `${field}.media.${index}`, issues);
    if (issues.length > 0) problems.push({ tweet_id: context.tweet_id, reason: `invalid media ${index + 1} of tweet ${where}: ${describeFieldIssues(issues)}` });
    if (!parsed) return;
    const media = normalizeMedia(parsed, parsed.type === 'video' ? videoViews : undefined);
    const availability = parsed.ext_media_availability?.status ?? undefined;
    items.push({ media, tweet: context, n: items.length + 1, ...(availability ? { availability } : {}) });
  });
  return { items, problems };
}

/**
 * No `extended_entities`: keep what `media_url` / `video_url` still say, so nothing is lost.
 * Media ids come from the URLs, so an item keys the same as its `extended_entities` twin.
 */
function fallbackMedia(tweet: TweetLevel, context: TweetContext): Found {
  const where = context.source_tweet_id ?? context.tweet_id;
  const problem = (n: number, issues: readonly FieldIssue[]): MediaProblem => ({ tweet_id: context.tweet_id, reason: `invalid media ${n} of tweet ${where}: ${describeFieldIssues(issues)}` });
  const urls = tweet.media.media_url ?? [];
  const video = tweet.media.video_url ?? [];
  if (video.length > 0) {
    const issues: FieldIssue[] = [];
    const variants = videoVariants(video, issues);
    if (variants.length === 0) return { items: [], problems: [problem(1, issues)] };
    const images = httpUrls(urls, 'media_url', issues);
    const poster = images[0];
    // An amplify video's poster is a photo URL with an id of its own: only video URLs name the video.
    const named = [...variants.map((v) => v.url), ...images].map(mediaOfUrl).find((m) => m !== undefined && m.type !== 'photo');
    const type = named?.type ?? 'video';
    // One video per tweet, so the tweet id stands in for a media id no URL gives.
    const media: Media = { media_key: `${KEY_PREFIX[type]}_${named?.id ?? where}`, type, variants };
    if (poster) media.preview_image_url = poster;
    const views = tweet.media.video_view_count;
    if (type === 'video' && views !== undefined) media.public_metrics = { view_count: views };
    return { items: [{ media, tweet: context, n: 1 }], problems: issues.length > 0 ? [problem(1, issues)] : [] };
  }
  const items: MediaItem[] = [];
  const problems: MediaProblem[] = [];
  urls.forEach((url, index) => {
    const checked = HttpUrlSchema.safeParse(url);
    const named = checked.success ? mediaOfUrl(checked.data) : undefined;
    if (!checked.success || !named) {
      const message = checked.success ? `no media id in ${checked.data}` : 'not an http(s) URL';
      problems.push(problem(index + 1, [{ path: `media_url.${index}`, message }]));
      return;
    }
    const media: Media = { media_key: `${KEY_PREFIX[named.type]}_${named.id}`, type: named.type };
    if (named.type === 'photo') {
      media.url = checked.data;
    } else {
      // agntdata sends a GIF as its thumbnail only (`video_url: null`); X serves the mp4 under the same name.
      media.preview_image_url = checked.data;
      if (GIF_THUMB.test(checked.data)) media.variants = [{ bit_rate: 0, content_type: 'video/mp4', url: checked.data.replace(GIF_THUMB, 'video.twimg.com/tweet_video/$1.mp4') }];
    }
    items.push({ media, tweet: context, n: items.length + 1 });
  });
  return { items, problems };
}

function httpUrls(values: readonly unknown[], field: string, issues: FieldIssue[]): string[] {
  return values.flatMap((value, index) => {
    const checked = HttpUrlSchema.safeParse(value);
    if (checked.success) return [checked.data];
    issues.push({ path: `${field}.${index}`, message: 'not an http(s) URL' });
    return [];
  });
}

/** `video_url` as variants: one URL, or a list of variant objects; bad ones are issues. */
function videoVariants(video: string | unknown[], issues: FieldIssue[]): Variant[] {
  if (typeof video === 'string') {
    const checked = HttpUrlSchema.safeParse(video);
    if (checked.success) return [toVariant(undefined, contentTypeOf(checked.data), checked.data)];
    issues.push({ path: 'video_url', message: 'not an http(s) URL' });
    return [];
  }
  return video.flatMap((entry, index) => {
    const variant = readVariant(entry, `video_url.${index}`, issues);
    return variant ? [toVariant(variant.bitrate, variant.content_type, variant.url)] : [];
  });
}

const GIF_THUMB = /pbs\.twimg\.com\/tweet_video_thumb\/([\w-]+)\.\w+(?:\?.*)?$/;

/**
 * The media a CDN URL names. Video paths carry the id in the clear; photo and GIF file names
 * start with the id's 8 bytes in base64url (`FREAsbkXIAYiaVV` → 1517995312715079686).
 */
export function mediaOfUrl(url: string): { type: MediaType; id: string } | undefined {
  const video = /\/(?:ext_tw_video|amplify_video)(?:_thumb)?\/(\d+)\//.exec(url)?.[1];
  if (video) return isSnowflake(video) ? { type: 'video', id: video } : undefined;
  const named = /\/(media|tweet_video|tweet_video_thumb)\/([\w-]{11,})(?:[.?]|$)/.exec(url);
  if (!named?.[1] || !named[2]) return undefined;
  const id = Buffer.from(named[2], 'base64url').readBigUInt64BE(0).toString();
  return { type: named[1] === 'media' ? 'photo' : 'animated_gif', id };
}

function tweetContext(tweet: PageTweet, tweetId: string): TweetContext {
  const context: TweetContext = { tweet_id: tweetId };
  const created = createdAt(tweet.page, tweetId);
  if (created) context.created_at = created;
  const { user } = tweet;
  const authorId = user.user_id ?? user.id_str ?? tweet.page.user_id_str;
  if (authorId) context.author_id = authorId;
  const username = user.username ?? user.screen_name;
  if (username) context.username = username;
  return context;
}

function pixelSize(raw: V1Media): { width: number; height: number } | undefined {
  if (raw.original_info) return { width: raw.original_info.width, height: raw.original_info.height };
  let best: { width: number; height: number } | undefined;
  for (const size of Object.values(raw.sizes ?? {})) {
    if (!best || size.w * size.h > best.width * best.height) best = { width: size.w, height: size.h };
  }
  return best;
}

function toVariant(bitrate: number | null | undefined, contentType: string, url: string): Variant {
  return typeof bitrate === 'number' ? { bit_rate: bitrate, content_type: contentType, url } : { content_type: contentType, url };
}

function contentTypeOf(url: string): string {
  return /\.m3u8(\?|$)/.test(url) ? 'application/x-mpegURL' : 'video/mp4';
}

function mediaViewCount(raw: V1Media): number | undefined {
  const direct = raw.mediaStats?.viewCount;
  if (typeof direct === 'number') return direct;
  const r = raw.ext?.mediaStats?.r;
  if (!isRecord(r) || !isRecord(r['ok'])) return undefined;
  const parsed = ViewCountSchema.safeParse(r['ok']['viewCount']);
  return parsed.success ? parsed.data : undefined;
}

/** The id of a tweet that is no tweet, for its problem's text: a string id, kept short and printable. */
function shownIdOf(raw: unknown): string {
  const id = stringIdsOf(raw)[0];
  if (id === undefined) return '(no id)';
  const printable = id.replace(/[^\x21-\x7e]/g, '?');
  return printable.length > 24 ? `${printable.slice(0, 24)}…` : printable;
}

/** For its problem's record: the first of its ids that is a real one. */
function validIdOf(raw: unknown): string | undefined {
  return stringIdsOf(raw).find(isSnowflake);
}

function stringIdsOf(raw: unknown): string[] {
  if (!isRecord(raw)) return [];
  return [raw['tweet_id'], raw['id_str']].filter((value): value is string => typeof value === 'string');
}
