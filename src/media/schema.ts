import { z } from 'zod';
import { withoutUserinfo } from '../net/http.js';
import { dateTextProblem, isTweetTime } from './dates.js';

/**
 * The tweets and v1.1 media objects the normalizer reads, as far as the archive relies on them.
 * Objects are loose (unknown fields pass). Fields are read one by one (`readFields`), so one bad
 * value costs that value, never its neighbours. Ids must arrive as strings: a 64-bit snowflake
 * sent as a JSON number has already lost digits by the time we see it.
 *
 * Nesting is read to a fixed depth, level by level, never by recursing on the input:
 *   level 0  a page's tweet: TweetIdsSchema + UserSchema + TweetMediaSchema + PageTweetSchema
 *   level 1  its `retweet_status` / `retweeted_status` (a retweet) or `quoted_status` (a quote)
 *   level 2  a retweet's `quoted_status` (a retweet of a quote)
 * Levels 1 and 2 are TweetIdsSchema + UserSchema + TweetMediaSchema; deeper is not read.
 */

export const REPOST_KEYS = ['retweet_status', 'retweeted_status'] as const;
export const QUOTE_KEY = 'quoted_status';

const MAX_ID = (1n << 64n) - 1n;
const MAX_URL_LENGTH = 4096;

/** 1–20 digits, at most 2^64−1: what X's tweet, media and user ids are. */
export function isSnowflake(text: string): boolean {
  return /^\d{1,20}$/.test(text) && BigInt(text) <= MAX_ID;
}

/** An absolute http(s) URL with a host, in printable ASCII (X's CDN URLs all are). */
function isHttpUrl(text: string): boolean {
  if (text.length > MAX_URL_LENGTH || !/^[\x21-\x7e]+$/.test(text)) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0;
const DIGITS = /^\d+$/;

// Each refine passes what the regex before it already reported, so a value gets one issue.
const IdSchema = z
  .string()
  .regex(DIGITS, 'expected digits')
  .refine((text) => !DIGITS.test(text) || isSnowflake(text), 'out of range');
const MediaKeySchema = z
  .string()
  .regex(/^\d+_\d+$/)
  .refine((key) => !/^\d+_\d+$/.test(key) || (/^\d{1,3}_/.test(key) && isSnowflake(key.slice(key.indexOf('_') + 1))), 'out of range');
/** An http(s) URL, its user info (`user:pass@`) dropped: a password is never printed or kept. */
export const HttpUrlSchema = z.string().refine(isHttpUrl, 'not an http(s) URL').transform(withoutUserinfo);
/** Sizes, durations, bit rates. */
const CountSchema = z.number().refine(isCount, 'expected a whole number ≥ 0');
/** View counts come as numbers or as digit strings. */
export const ViewCountSchema = z
  .union([z.number(), z.string()])
  .refine((value) => (typeof value === 'number' ? isCount(value) : DIGITS.test(value) && value.length <= 16 && isCount(Number(value))), 'expected a whole number ≥ 0')
  .transform(Number);
const TweetDateSchema = z.string().superRefine((text, ctx) => {
  const problem = dateTextProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
/** Seconds since the Unix epoch. */
const TimestampSchema = z.number().refine((seconds) => isTweetTime(seconds * 1000), 'out of range');
/** X handles are letters, digits and `_`; this keeps control and bidi characters out of names and records. */
const UserNameSchema = z.string().regex(/^\w{1,50}$/, 'not a user name');

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

export const V1VariantSchema = z.looseObject({
  bitrate: nullish(CountSchema),
  content_type: z.string().max(200),
  url: HttpUrlSchema,
});
export type V1Variant = z.output<typeof V1VariantSchema>;

const videoInfoShape = { duration_millis: nullish(CountSchema) };
/** `video_info` with its variants left to be read one by one. */
export const VideoInfoFieldsSchema = z.looseObject({ ...videoInfoShape, variants: z.array(z.unknown()) });

/** A v1.1 `extended_entities.media[]` entry's fields but `video_info`. */
export const MediaFieldsSchema = z.looseObject({
  id_str: IdSchema,
  type: z.enum(['photo', 'video', 'animated_gif']),
  media_key: nullish(MediaKeySchema),
  media_url_https: nullish(HttpUrlSchema),
  media_url: nullish(HttpUrlSchema),
  ext_alt_text: nullish(z.string().max(10_000)),
  sizes: nullish(z.record(z.string(), z.looseObject({ w: CountSchema, h: CountSchema }))),
  original_info: nullish(z.looseObject({ width: CountSchema, height: CountSchema })),
  ext_media_availability: nullish(z.looseObject({ status: nullish(z.string().regex(/^[\x20-\x7e]{1,64}$/, 'not a status')) })),
  mediaStats: nullish(z.looseObject({ viewCount: nullish(ViewCountSchema) })),
  // X's own wrapper: `r` is `{ok: {viewCount}}` or a word such as "Missing".
  ext: nullish(z.looseObject({ mediaStats: nullish(z.looseObject({ r: z.unknown() })) })),
});

/** A v1.1 `extended_entities.media[]` entry: the same in agntdata's and X's REST wrappers. */
export const V1MediaSchema = MediaFieldsSchema.extend({
  video_info: nullish(z.looseObject({ ...videoInfoShape, variants: z.array(V1VariantSchema) })),
});
export type V1Media = z.output<typeof V1MediaSchema>;

const ExtendedEntitiesSchema = z.looseObject({ media: z.array(z.unknown()) });

/** Every level: `user`, the author. */
export const UserSchema = z.looseObject({
  user_id: nullish(IdSchema),
  id_str: nullish(IdSchema),
  username: nullish(UserNameSchema),
  screen_name: nullish(UserNameSchema),
});

/** Every level: the tweet's id, as agntdata (`tweet_id`) or X (`id_str`) names it. */
export const TweetIdsSchema = z.looseObject({ tweet_id: nullish(IdSchema), id_str: nullish(IdSchema) });

/** Every level: the media, in `extended_entities` or the `media_url`/`video_url` fallback. */
export const TweetMediaSchema = z.looseObject({
  media_url: nullish(z.array(z.unknown())),
  /** agntdata's `video_url`: a URL, or a list of variants. */
  video_url: nullish(z.union([z.string(), z.array(z.unknown())])),
  video_view_count: nullish(ViewCountSchema),
  extended_entities: nullish(ExtendedEntitiesSchema),
  // Compatibility-mode (streaming) tweets keep the media of long tweets under `extended_tweet`.
  extended_tweet: nullish(z.looseObject({ extended_entities: nullish(ExtendedEntitiesSchema) })),
});

/** Level 0 only: the date and author id of the page's tweet, and whether it is a retweet. */
export const PageTweetSchema = z.looseObject({
  creation_date: nullish(TweetDateSchema),
  created_at: nullish(TweetDateSchema),
  timestamp: nullish(TimestampSchema),
  /** X's web GraphQL `legacy` tweet: the author's id, with no `user` object. */
  user_id_str: nullish(IdSchema),
  /** agntdata: the original's id when the tweet is a retweet (sent even without `retweet_status`). */
  retweet_tweet_id: nullish(IdSchema),
});

// ---------------------------------------------------------------------------------------------

/** One thing wrong in a payload: where (`extended_entities.media.0.type`) and what. */
export interface FieldIssue {
  path: string;
  message: string;
}

type Shape = Record<string, z.ZodType>;
/** The fields of an object that passed their schemas; a field that failed is left out. */
export type Fields<S extends Shape> = { [K in keyof S]?: NonNullable<z.output<S[K]>> };

const ObjectSchema = z.looseObject({});

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Each field of `shape` parsed on its own: what passes is kept, null and absent are left out,
 * and each failure is an issue under `at`. Undefined (with an issue) when `raw` is no object.
 */
export function readFields<S extends Shape>(shape: S, raw: unknown, at: string, issues: FieldIssue[]): Fields<S> | undefined {
  if (!isRecord(raw)) {
    const parsed = ObjectSchema.safeParse(raw);
    if (!parsed.success) issues.push(...issuesAt(parsed.error, at));
    return undefined;
  }
  const fields: Fields<S> = {};
  const read = <K extends keyof S & string>(key: K, schema: S[K]) => {
    const parsed = schema.safeParse(Object.hasOwn(raw, key) ? raw[key] : undefined);
    if (!parsed.success) issues.push(...issuesAt(parsed.error, joinPath(at, key)));
    else if (parsed.data !== undefined && parsed.data !== null) fields[key] = parsed.data;
  };
  for (const key in shape) read(key, shape[key]);
  return fields;
}

export function joinPath(...parts: string[]): string {
  return parts.filter((part) => part !== '').join('.');
}

function issuesAt(error: z.ZodError, at: string): FieldIssue[] {
  return error.issues.map((issue) => ({ path: joinPath(at, ...issue.path.map(printable)), message: issue.message }));
}

/** A record key from the payload, fit for a one-line message. */
function printable(key: PropertyKey): string {
  return String(key).replace(/[^\x21-\x7e]/g, '?').slice(0, 64);
}

/** Issues as `path: message`, the first three, naming the field that failed. */
export function describeFieldIssues(issues: readonly FieldIssue[]): string {
  const shown = issues.slice(0, 3).map((issue) => `${issue.path || '(root)'}: ${issue.message}`);
  if (issues.length > 3) shown.push(`and ${issues.length - 3} more`);
  return shown.join('; ');
}
