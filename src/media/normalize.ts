import { describeIssues, TweetSchema, V1MediaSchema, type Tweet, type V1Media } from '../api/schema.js';
import { withoutUserinfo } from '../net/http.js';
import type { Media, MediaItem, MediaProblem, MediaType, TweetContext, Variant } from '../types.js';

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
  const rawImageUrl = raw.media_url_https ?? raw.media_url ?? undefined;
  const imageUrl = rawImageUrl === undefined ? undefined : withoutUserinfo(rawImageUrl);
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
 * and the problems that kept anything from becoming an item. Never throws on bad input.
 * Reposted and quoted media are items of the reposting tweet, once per media_key, with the
 * original's id in `source_tweet_id`: an account's archive is what it showed (`--no-retweets`
 * filters them in the planner).
 */
export function normalizeTweet(raw: unknown): Found {
  const parsed = TweetSchema.safeParse(raw);
  const rawId = idOf(raw);
  if (!parsed.success) {
    return { items: [], problems: [{ tweet_id: rawId ?? '?', reason: `invalid tweet ${rawId ?? '(no id)'}: ${describeIssues(parsed.error)}` }] };
  }
  const tweet = parsed.data;
  const tweetId = tweet.tweet_id ?? tweet.id_str;
  if (!tweetId) return { items: [], problems: [{ tweet_id: '?', reason: 'invalid tweet: tweet_id: missing' }] };

  const context = tweetContext(tweet, tweetId);
  const items: MediaItem[] = [];
  const problems: MediaProblem[] = [];
  const seen = new Set<string>();
  const add = (found: Found) => {
    for (const item of found.items) {
      if (seen.has(item.media.media_key)) continue;
      seen.add(item.media.media_key);
      items.push({ ...item, n: items.length + 1 });
    }
    problems.push(...found.problems);
  };

  const repost = tweet.retweet_status ?? tweet.retweeted_status ?? undefined;
  // A retweet's own entities copy the original's: take them from the original, with its id.
  if (repost) {
    const reposted = mediaOfTweetAndQuote(repost, context);
    const empty = reposted.items.length === 0 && reposted.problems.length === 0;
    add(empty ? ownMedia(tweet, withSource(context, repost)) : reposted);
  } else if (tweet.retweet_tweet_id) {
    add(ownMedia(tweet, { ...context, source_tweet_id: tweet.retweet_tweet_id }));
  } else {
    add(ownMedia(tweet, context));
  }
  if (tweet.quoted_status) add(mediaOfTweetAndQuote(tweet.quoted_status, context));
  return { items, problems };
}

function mediaOfTweetAndQuote(source: Tweet, context: TweetContext): Found {
  const own = ownMedia(source, withSource(context, source));
  if (!source.quoted_status) return own;
  const quoted = ownMedia(source.quoted_status, withSource(context, source.quoted_status));
  return { items: [...own.items, ...quoted.items], problems: [...own.problems, ...quoted.problems] };
}

function withSource(context: TweetContext, source: Tweet): TweetContext {
  const sourceId = source.tweet_id ?? source.id_str;
  const username = source.user?.username ?? source.user?.screen_name;
  return {
    ...context,
    ...(sourceId ? { source_tweet_id: sourceId } : {}),
    ...(username ? { source_username: username } : {}),
  };
}

function ownMedia(tweet: Tweet, context: TweetContext): Found {
  // Compatibility-mode (streaming) tweets keep the media of long tweets under `extended_tweet`.
  const field = tweet.extended_entities ? 'extended_entities' : 'extended_tweet.extended_entities';
  const rawMedia = (tweet.extended_entities ?? tweet.extended_tweet?.extended_entities)?.media ?? [];
  if (rawMedia.length === 0) return fallbackMedia(tweet, context);
  const where = context.source_tweet_id ?? context.tweet_id;
  // The tweet's count is a video's views: it belongs to its media only when that is one video.
  const videoViews = rawMedia.length === 1 ? toCount(tweet.video_view_count) : undefined;
  const items: MediaItem[] = [];
  const problems: MediaProblem[] = [];
  rawMedia.forEach((entry, index) => {
    const parsed = V1MediaSchema.safeParse(entry);
    if (!parsed.success) {
      const issues = describeIssues(parsed.error, `${field}.media.${index}`);
      problems.push({ tweet_id: context.tweet_id, reason: `invalid media ${index + 1} of tweet ${where}: ${issues}` });
      return;
    }
    const media = normalizeMedia(parsed.data, parsed.data.type === 'video' ? videoViews : undefined);
    const availability = parsed.data.ext_media_availability?.status ?? undefined;
    items.push({ media, tweet: context, n: items.length + 1, ...(availability ? { availability } : {}) });
  });
  return { items, problems };
}

/**
 * No `extended_entities`: keep what `media_url` / `video_url` still say, so nothing is lost.
 * Media ids come from the URLs, so an item keys the same as its `extended_entities` twin.
 */
function fallbackMedia(tweet: Tweet, context: TweetContext): Found {
  const where = context.source_tweet_id ?? context.tweet_id;
  const urls = (tweet.media_url ?? []).map(withoutUserinfo);
  const video = tweet.video_url ?? [];
  const variants =
    typeof video === 'string' ? [toVariant(undefined, contentTypeOf(video), video)] : video.map((v) => toVariant(v.bitrate, v.content_type, v.url));
  if (variants.length > 0) {
    // An amplify video's poster is a photo URL with an id of its own: only video URLs name the video.
    const named = [...variants.map((v) => v.url), ...urls].map(mediaOfUrl).find((m) => m !== undefined && m.type !== 'photo');
    const type = named?.type ?? 'video';
    // One video per tweet, so the tweet id stands in for a media id no URL gives.
    const media: Media = { media_key: `${KEY_PREFIX[type]}_${named?.id ?? where}`, type, variants };
    if (urls[0]) media.preview_image_url = urls[0];
    const views = toCount(tweet.video_view_count);
    if (type === 'video' && views !== undefined) media.public_metrics = { view_count: views };
    return { items: [{ media, tweet: context, n: 1 }], problems: [] };
  }
  const items: MediaItem[] = [];
  const problems: MediaProblem[] = [];
  urls.forEach((url, index) => {
    const named = mediaOfUrl(url);
    if (!named) {
      problems.push({ tweet_id: context.tweet_id, reason: `invalid media ${index + 1} of tweet ${where}: media_url.${index}: no media id in ${url}` });
      return;
    }
    const media: Media = { media_key: `${KEY_PREFIX[named.type]}_${named.id}`, type: named.type };
    if (named.type === 'photo') {
      media.url = url;
    } else {
      // agntdata sends a GIF as its thumbnail only (`video_url: null`); X serves the mp4 under the same name.
      media.preview_image_url = url;
      if (GIF_THUMB.test(url)) media.variants = [{ bit_rate: 0, content_type: 'video/mp4', url: url.replace(GIF_THUMB, 'video.twimg.com/tweet_video/$1.mp4') }];
    }
    items.push({ media, tweet: context, n: items.length + 1 });
  });
  return { items, problems };
}

const GIF_THUMB = /pbs\.twimg\.com\/tweet_video_thumb\/([\w-]+)\.\w+(?:\?.*)?$/;

/**
 * The media a CDN URL names. Video paths carry the id in the clear; photo and GIF file names
 * start with the id's 8 bytes in base64url (`FREAsbkXIAYiaVV` → 1517995312715079686).
 */
export function mediaOfUrl(url: string): { type: MediaType; id: string } | undefined {
  const video = /\/(?:ext_tw_video|amplify_video)(?:_thumb)?\/(\d+)\//.exec(url)?.[1];
  if (video) return { type: 'video', id: video };
  const named = /\/(media|tweet_video|tweet_video_thumb)\/([\w-]{11,})(?:[.?]|$)/.exec(url);
  if (!named?.[1] || !named[2]) return undefined;
  const id = Buffer.from(named[2], 'base64url').readBigUInt64BE(0).toString();
  return { type: named[1] === 'media' ? 'photo' : 'animated_gif', id };
}

function tweetContext(tweet: Tweet, tweetId: string): TweetContext {
  const context: TweetContext = { tweet_id: tweetId };
  const created = createdAt(tweet, tweetId);
  if (created) context.created_at = created;
  const authorId = tweet.user?.user_id ?? tweet.user?.id_str ?? tweet.user_id_str;
  if (authorId) context.author_id = authorId;
  const username = tweet.user?.username ?? tweet.user?.screen_name;
  if (username) context.username = username;
  return context;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TWITTER_DATE = /^\w{3} (\w{3}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$/;
/** X's epoch, for dating a tweet by its snowflake id when the payload gives no date. */
const SNOWFLAKE_EPOCH_MS = 1288834974657n;

/** `Sat Apr 23 22:34:21 +0000 2022` (or ISO, or a unix timestamp, or the snowflake) → ISO 8601. */
export function createdAt(tweet: Pick<Tweet, 'creation_date' | 'created_at' | 'timestamp'>, tweetId: string): string | undefined {
  const text = tweet.creation_date ?? tweet.created_at;
  if (text) {
    const m = TWITTER_DATE.exec(text);
    if (m) {
      const [, mon, day, hh, mm, ss, sign, oh, om, year] = m;
      const month = MONTHS.indexOf(mon ?? '');
      if (month >= 0) {
        const offsetMs = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
        return new Date(Date.UTC(Number(year), month, Number(day), Number(hh), Number(mm), Number(ss)) - offsetMs).toISOString();
      }
    }
    const parsed = Date.parse(text);
    if (!Number.isNaN(parsed)) return new Date(parsed).toISOString();
  }
  if (typeof tweet.timestamp === 'number') return new Date(tweet.timestamp * 1000).toISOString();
  const id = BigInt(tweetId);
  if (id > 1n << 32n) return new Date(Number((id >> 22n) + SNOWFLAKE_EPOCH_MS)).toISOString();
  return undefined;
}

function pixelSize(raw: V1Media): { width: number; height: number } | undefined {
  if (raw.original_info) return { width: raw.original_info.width, height: raw.original_info.height };
  let best: { width: number; height: number } | undefined;
  for (const size of Object.values(raw.sizes ?? {})) {
    if (!best || size.w * size.h > best.width * best.height) best = { width: size.w, height: size.h };
  }
  return best;
}

function toVariant(bitrate: number | null | undefined, contentType: string, rawUrl: string): Variant {
  const url = withoutUserinfo(rawUrl);
  return typeof bitrate === 'number' ? { bit_rate: bitrate, content_type: contentType, url } : { content_type: contentType, url };
}

function contentTypeOf(url: string): string {
  return /\.m3u8(\?|$)/.test(url) ? 'application/x-mpegURL' : 'video/mp4';
}

function mediaViewCount(raw: V1Media): number | undefined {
  const direct = toCount(raw.mediaStats?.viewCount);
  if (direct !== undefined) return direct;
  const r = raw.ext?.mediaStats?.r;
  if (r && typeof r === 'object' && 'ok' in r && r.ok && typeof r.ok === 'object' && 'viewCount' in r.ok) {
    return toCount(r.ok.viewCount);
  }
  return undefined;
}

function toCount(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

/** The id of a tweet that failed its schema, for the problem's text: any id that is a string. */
function idOf(raw: unknown): string | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const record = raw as Record<string, unknown>;
  const id = [record['tweet_id'], record['id_str']].find((value) => typeof value === 'string');
  return typeof id === 'string' ? id : undefined;
}
