import { z } from 'zod';
import type { TweetRecordSchema } from '../output/schemas.js';
import { createdAt } from './dates.js';
import { normalizeTweet } from './normalize.js';
import { isRecord, PageTweetSchema, QUOTE_KEY, readFields, REPOST_KEYS, UserSchema, ViewCountSchema, type Fields } from './schema.js';
import type { MediaItem } from '../types.js';

/**
 * A page's tweet (agntdata's, X's v1.1 or its web GraphQL `legacy` shape) → an X API v2 Tweet
 * object, as `export --tweets` and the metadata sidecars give it. Only what the payload says is
 * mapped, each field read on its own (a bad value costs that field); a v2 field the payload
 * cannot fill is left out, never made up. The counts the API gives, which v2's `public_metrics`
 * cannot hold without a bookmark count (and often a view count) the API does not send, travel
 * in one extension field, `x_media_dump.public_metrics`. Pure, and never throws.
 */

const TWEET_EXTENSION = 'x_media_dump';

export type ReferenceType = 'retweeted' | 'quoted' | 'replied_to';

/** An entity's place in the text: start inclusive, end exclusive, as v1.1 and v2 both count. */
interface Span {
  start: number;
  end: number;
}

export interface TweetEntities {
  hashtags?: (Span & { tag: string })[];
  cashtags?: (Span & { tag: string })[];
  mentions?: (Span & { username: string; id?: string })[];
  urls?: (Span & { url: string; expanded_url?: string; display_url?: string })[];
}

/** The counts the API gave, under v2's names; absent ones are left out. */
export interface GivenCounts {
  retweet_count?: number;
  reply_count?: number;
  like_count?: number;
  quote_count?: number;
  bookmark_count?: number;
  impression_count?: number;
}

/** Every tweet record the mapping builds fits the published schema (checked by the compiler). */
export const tweetFitsSchema: (tweet: V2Tweet) => z.input<typeof TweetRecordSchema> = (tweet) => tweet;

/** An X API v2 Tweet (`fixtures/reference/x-v2-tweet.schema.json`) plus the extension field. */
export type V2Tweet = {
  id: string;
  text?: string;
  created_at?: string;
  author_id?: string;
  username?: string;
  lang?: string;
  conversation_id?: string;
  in_reply_to_user_id?: string;
  referenced_tweets?: { type: ReferenceType; id: string }[];
  attachments?: { media_keys: string[] };
  entities?: TweetEntities;
  display_text_range?: [number, number];
  possibly_sensitive?: boolean;
  geo?: { coordinates?: { type: 'Point'; coordinates: [number, number] }; place_id?: string };
  x_media_dump?: { public_metrics?: GivenCounts };
};

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();
/** v2's TweetId and UserId: 1 to 19 digits. */
const V2IdSchema = z.string().regex(/^\d{1,19}$/);
const V2UserNameSchema = z.string().regex(/^[A-Za-z0-9_]{1,15}$/);
const CountSchema = z.number().refine((n) => Number.isSafeInteger(n) && n >= 0);
const IndicesSchema = z.tuple([CountSchema, CountSchema]).refine(([start, end]) => start <= end);
/** A BCP 47 tag as X gives them (`en`, `pt-BR`, and its own `qme`, `und`, `zxx`). */
const LangSchema = z.string().regex(/^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/);
const TextSchema = z.string();

/** What the mapping reads of a page's tweet, beyond the ids, dates and author the media layer reads. */
const TweetFieldsSchema = z.looseObject({
  tweet_id: nullish(V2IdSchema),
  id_str: nullish(V2IdSchema),
  text: nullish(TextSchema),
  full_text: nullish(TextSchema),
  language: nullish(LangSchema),
  lang: nullish(LangSchema),
  conversation_id: nullish(V2IdSchema),
  conversation_id_str: nullish(V2IdSchema),
  in_reply_to_status_id: nullish(V2IdSchema),
  in_reply_to_status_id_str: nullish(V2IdSchema),
  in_reply_to_user_id: nullish(V2IdSchema),
  in_reply_to_user_id_str: nullish(V2IdSchema),
  quoted_status_id: nullish(V2IdSchema),
  quoted_status_id_str: nullish(V2IdSchema),
  possibly_sensitive: nullish(z.boolean()),
  display_text_range: nullish(IndicesSchema),
  entities: nullish(z.looseObject({})),
  // Compatibility-mode (streaming) tweets keep a long tweet's text and entities here.
  extended_tweet: nullish(z.looseObject({ full_text: nullish(TextSchema), display_text_range: nullish(IndicesSchema), entities: nullish(z.looseObject({})) })),
  coordinates: nullish(z.looseObject({ type: z.literal('Point'), coordinates: z.tuple([z.number(), z.number()]) })),
  place: nullish(z.looseObject({ id: nullish(z.string().regex(/^[\w-]{1,64}$/)) })),
});

const CountsSchema = z.looseObject({
  retweet_count: nullish(CountSchema),
  reply_count: nullish(CountSchema),
  favorite_count: nullish(CountSchema),
  quote_count: nullish(CountSchema),
  bookmark_count: nullish(CountSchema),
  views: nullish(ViewCountSchema),
});

/** A nested tweet's id, as agntdata (`tweet_id`) or X (`id_str`) names it. */
const NestedIdSchema = z.looseObject({ tweet_id: nullish(V2IdSchema), id_str: nullish(V2IdSchema) });

type TweetFields = Fields<typeof TweetFieldsSchema.shape>;
const TextFieldsSchema = TweetFieldsSchema.pick({ tweet_id: true, id_str: true, text: true, full_text: true, extended_tweet: true });

/** The v2 record of one tweet; undefined when it has no id v2 can hold. */
export function toV2Tweet(raw: unknown, items: readonly MediaItem[] = normalizeTweet(raw).items): V2Tweet | undefined {
  if (!isRecord(raw)) return undefined;
  const fields = readFields(TweetFieldsSchema.shape, raw, '', []) ?? {};
  const id = fields.tweet_id ?? fields.id_str;
  if (id === undefined) return undefined;
  const tweet: V2Tweet = { id };
  const long = fields.extended_tweet;
  const text = long?.full_text ?? fields.full_text ?? fields.text;
  if (text !== undefined) tweet.text = text;
  const created = createdAt(readFields(PageTweetSchema.shape, raw, '', []) ?? {}, id);
  if (created !== undefined) tweet.created_at = created;
  Object.assign(tweet, authorOf(raw));
  const lang = fields.language ?? fields.lang;
  if (lang !== undefined) tweet.lang = lang;
  const conversation = fields.conversation_id ?? fields.conversation_id_str;
  if (conversation !== undefined) tweet.conversation_id = conversation;
  const repliedToUser = fields.in_reply_to_user_id_str ?? fields.in_reply_to_user_id;
  if (repliedToUser !== undefined) tweet.in_reply_to_user_id = repliedToUser;
  const references = referencesOf(raw, fields);
  if (references.length > 0) tweet.referenced_tweets = references;
  const mediaKeys = ownMediaKeys(items);
  if (mediaKeys.length > 0) tweet.attachments = { media_keys: mediaKeys };
  const entities = entitiesOf(long?.full_text !== undefined ? long.entities : fields.entities);
  if (entities) tweet.entities = entities;
  const range = long?.full_text !== undefined ? long.display_text_range : fields.display_text_range;
  if (range) tweet.display_text_range = [range[0], range[1]];
  if (fields.possibly_sensitive !== undefined) tweet.possibly_sensitive = fields.possibly_sensitive;
  const geo = geoOf(fields);
  if (geo) tweet.geo = geo;
  const counts = countsOf(raw);
  if (counts) tweet[TWEET_EXTENSION] = { public_metrics: counts };
  return tweet;
}

/** A tweet's id and text, for the viewer's search; undefined without an id. */
export function tweetText(raw: unknown): { id: string; text: string | undefined } | undefined {
  if (!isRecord(raw)) return undefined;
  const fields = readFields(TextFieldsSchema.shape, raw, '', []) ?? {};
  const id = fields.tweet_id ?? fields.id_str;
  return id === undefined ? undefined : { id, text: fields.extended_tweet?.full_text ?? fields.full_text ?? fields.text };
}

function authorOf(raw: Record<string, unknown>): Pick<V2Tweet, 'author_id' | 'username'> {
  const user = readFields(UserSchema.shape, raw['user'], '', []) ?? {};
  const page = readFields({ user_id_str: PageTweetSchema.shape.user_id_str }, raw, '', []) ?? {};
  const author: Pick<V2Tweet, 'author_id' | 'username'> = {};
  const authorId = V2IdSchema.safeParse(user.user_id ?? user.id_str ?? page.user_id_str);
  if (authorId.success) author.author_id = authorId.data;
  const username = V2UserNameSchema.safeParse(user.username ?? user.screen_name);
  if (username.success) author.username = username.data;
  return author;
}

/**
 * What the tweet points at. A retweet points at its original only (v2 gives a retweet no other
 * reference: a reply or quote in the payload's top level is the original's, copied).
 */
function referencesOf(raw: Record<string, unknown>, fields: TweetFields): { type: ReferenceType; id: string }[] {
  const page = readFields({ retweet_tweet_id: V2IdSchema.nullish() }, raw, '', []) ?? {};
  const nestedId = (key: string) => {
    const nested = readFields(NestedIdSchema.shape, raw[key], '', []);
    return nested?.tweet_id ?? nested?.id_str;
  };
  const retweeted = REPOST_KEYS.map(nestedId).find((id) => id !== undefined) ?? page.retweet_tweet_id;
  if (retweeted !== undefined) return [{ type: 'retweeted', id: retweeted }];
  const references: { type: ReferenceType; id: string }[] = [];
  const quoted = fields.quoted_status_id_str ?? fields.quoted_status_id ?? nestedId(QUOTE_KEY);
  if (quoted !== undefined) references.push({ type: 'quoted', id: quoted });
  const repliedTo = fields.in_reply_to_status_id_str ?? fields.in_reply_to_status_id;
  if (repliedTo !== undefined) references.push({ type: 'replied_to', id: repliedTo });
  return references;
}

/** The tweet's own media, as its media records key them; a repost's or quote's media are the original's. */
function ownMediaKeys(items: readonly MediaItem[]): string[] {
  return items
    .filter((item) => item.tweet.source_tweet_id === undefined)
    .map((item) => item.media.media_key)
    .filter((key) => /^\d+_\d+$/.test(key));
}

function countsOf(raw: Record<string, unknown>): GivenCounts | undefined {
  const given = readFields(CountsSchema.shape, raw, '', []) ?? {};
  const counts: GivenCounts = {};
  if (given.retweet_count !== undefined) counts.retweet_count = given.retweet_count;
  if (given.reply_count !== undefined) counts.reply_count = given.reply_count;
  if (given.favorite_count !== undefined) counts.like_count = given.favorite_count;
  if (given.quote_count !== undefined) counts.quote_count = given.quote_count;
  if (given.bookmark_count !== undefined) counts.bookmark_count = given.bookmark_count;
  if (given.views !== undefined) counts.impression_count = given.views;
  return Object.keys(counts).length > 0 ? counts : undefined;
}

function geoOf(fields: TweetFields): V2Tweet['geo'] | undefined {
  const geo: NonNullable<V2Tweet['geo']> = {};
  const point = fields.coordinates?.coordinates;
  if (point && point.every(Number.isFinite)) geo.coordinates = { type: 'Point', coordinates: [point[0], point[1]] };
  const placeId = fields.place?.id;
  if (typeof placeId === 'string') geo.place_id = placeId;
  return Object.keys(geo).length > 0 ? geo : undefined;
}

// ── entities: v1.1's names and `indices` → v2's names and `start`/`end` ────────────────────────

const SpanSchema = z.looseObject({ indices: IndicesSchema });
const HashtagSchema = SpanSchema.extend({ text: z.string().min(1) });
const MentionSchema = SpanSchema.extend({ screen_name: V2UserNameSchema, id_str: nullish(V2IdSchema) });
const UrlSchema = SpanSchema.extend({ url: z.string().refine(isPlainUri), expanded_url: z.unknown(), display_url: nullish(z.string()) });
const EntityListsSchema = z.looseObject({
  hashtags: nullish(z.array(z.unknown())),
  symbols: nullish(z.array(z.unknown())),
  user_mentions: nullish(z.array(z.unknown())),
  urls: nullish(z.array(z.unknown())),
  // The media's t.co link, which v2 lists among the URLs.
  media: nullish(z.array(z.unknown())),
});

function entitiesOf(raw: unknown): TweetEntities | undefined {
  const lists = readFields(EntityListsSchema.shape, raw, '', []);
  if (!lists) return undefined;
  const each = <S extends z.ZodType, T>(list: unknown[] | undefined, schema: S, map: (entity: z.output<S>) => T): T[] =>
    (list ?? []).flatMap((entity) => {
      const parsed = schema.safeParse(entity);
      return parsed.success ? [map(parsed.data)] : [];
    });
  const span = (indices: readonly [number, number]): Span => ({ start: indices[0], end: indices[1] });
  const entities: TweetEntities = {};
  const hashtags = each(lists.hashtags, HashtagSchema, (h) => ({ ...span(h.indices), tag: h.text }));
  if (hashtags.length > 0) entities.hashtags = hashtags;
  const cashtags = each(lists.symbols, HashtagSchema, (h) => ({ ...span(h.indices), tag: h.text }));
  if (cashtags.length > 0) entities.cashtags = cashtags;
  const mentions = each(lists.user_mentions, MentionSchema, (m) => ({ ...span(m.indices), username: m.screen_name, ...(m.id_str ? { id: m.id_str } : {}) }));
  if (mentions.length > 0) entities.mentions = mentions;
  const toUrl = (u: z.output<typeof UrlSchema>) => ({
    ...span(u.indices),
    url: u.url,
    ...(typeof u.expanded_url === 'string' && isPlainUri(u.expanded_url) ? { expanded_url: u.expanded_url } : {}),
    ...(typeof u.display_url === 'string' ? { display_url: u.display_url } : {}),
  });
  const urls = [...each(lists.urls, UrlSchema, toUrl), ...each(lists.media, UrlSchema, toUrl)].sort((a, b) => a.start - b.start);
  if (urls.length > 0) entities.urls = urls;
  return Object.keys(entities).length > 0 ? entities : undefined;
}

/**
 * An http(s) URL made of URI characters only (RFC 3986: unreserved, sub-delims, `:@/?`, `%XX`),
 * with a plain host name: what v2's `format: uri` takes. Anything else is left out.
 */
const PLAIN_URI = /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?:\/(?:[\w.~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*(?:\?(?:[\w.~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?(?:#(?:[\w.~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$/;

function isPlainUri(text: string): boolean {
  return text.length <= 4096 && PLAIN_URI.test(text);
}
