import { z } from 'zod';

/**
 * The agntdata payloads, as far as we rely on them. Objects are loose (unknown fields pass);
 * a missing or mistyped field we need is an error that names it. Ids must arrive as strings:
 * a 64-bit snowflake sent as a JSON number has already lost digits by the time we see it.
 */

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

export const V1VariantSchema = z.looseObject({
  bitrate: nullish(z.number()),
  content_type: z.string(),
  url: z.string(),
});

/** A v1.1 `extended_entities.media[]` entry: the same in agntdata's and X's REST wrappers. */
export const V1MediaSchema = z.looseObject({
  id_str: z.string().regex(/^\d+$/, 'expected digits'),
  type: z.enum(['photo', 'video', 'animated_gif']),
  media_key: nullish(z.string().regex(/^\d+_\d+$/)),
  media_url_https: nullish(z.string()),
  media_url: nullish(z.string()),
  ext_alt_text: nullish(z.string()),
  sizes: nullish(z.record(z.string(), z.looseObject({ w: z.number(), h: z.number() }))),
  original_info: nullish(z.looseObject({ width: z.number(), height: z.number() })),
  video_info: nullish(
    z.looseObject({
      duration_millis: nullish(z.number()),
      variants: z.array(V1VariantSchema),
    }),
  ),
  ext_media_availability: nullish(z.looseObject({ status: nullish(z.string()) })),
  mediaStats: nullish(z.looseObject({ viewCount: nullish(z.union([z.number(), z.string()])) })),
  ext: nullish(
    z.looseObject({
      mediaStats: nullish(
        z.looseObject({
          r: z.unknown(),
        }),
      ),
    }),
  ),
});
export type V1Media = z.infer<typeof V1MediaSchema>;

const ExtendedEntitiesSchema = z.looseObject({ media: z.array(z.unknown()) });

const UserSchema = z.looseObject({
  user_id: nullish(z.string()),
  id_str: nullish(z.string()),
  username: nullish(z.string()),
  screen_name: nullish(z.string()),
});

/** agntdata's `video_url`: a URL, or a list of variants. */
const VideoUrlSchema = z.union([z.string(), z.array(V1VariantSchema)]);

/**
 * One tweet. agntdata names (`tweet_id`, `creation_date`, `retweet_status`) and X v1.1 names
 * (`id_str`, `created_at`, `retweeted_status`, `extended_tweet`) are both read, so the real
 * reference payloads go through the same code as the API's.
 */
export interface Tweet {
  tweet_id?: string | null | undefined;
  id_str?: string | null | undefined;
  creation_date?: string | null | undefined;
  created_at?: string | null | undefined;
  timestamp?: number | null | undefined;
  user?: z.infer<typeof UserSchema> | null | undefined;
  /** X's web GraphQL `legacy` tweet: the author's id, with no `user` object. */
  user_id_str?: string | null | undefined;
  /** agntdata: the original's id when the tweet is a retweet (sent even without `retweet_status`). */
  retweet_tweet_id?: string | null | undefined;
  media_url?: string[] | null | undefined;
  video_url?: z.infer<typeof VideoUrlSchema> | null | undefined;
  video_view_count?: number | string | null | undefined;
  extended_entities?: z.infer<typeof ExtendedEntitiesSchema> | null | undefined;
  extended_tweet?: { extended_entities?: z.infer<typeof ExtendedEntitiesSchema> | null | undefined } | null | undefined;
  retweet_status?: Tweet | null | undefined;
  retweeted_status?: Tweet | null | undefined;
  quoted_status?: Tweet | null | undefined;
}

export const TweetSchema: z.ZodType<Tweet> = z.looseObject({
  tweet_id: nullish(z.string().regex(/^\d+$/, 'expected digits')),
  id_str: nullish(z.string().regex(/^\d+$/, 'expected digits')),
  creation_date: nullish(z.string()),
  created_at: nullish(z.string()),
  timestamp: nullish(z.number()),
  user: nullish(UserSchema),
  user_id_str: nullish(z.string().regex(/^\d+$/, 'expected digits')),
  retweet_tweet_id: nullish(z.string().regex(/^\d+$/, 'expected digits')),
  media_url: nullish(z.array(z.string())),
  video_url: nullish(VideoUrlSchema),
  video_view_count: nullish(z.union([z.number(), z.string()])),
  extended_entities: nullish(ExtendedEntitiesSchema),
  extended_tweet: nullish(z.looseObject({ extended_entities: nullish(ExtendedEntitiesSchema) })),
  get retweet_status() {
    return nullish(TweetSchema);
  },
  get retweeted_status() {
    return nullish(TweetSchema);
  },
  get quoted_status() {
    return nullish(TweetSchema);
  },
});

/** A page: results are checked tweet by tweet later, so one bad tweet never sinks its page. */
const PageBodySchema = z.looseObject({
  results: z.array(z.unknown()),
  continuation_token: nullish(z.string()),
});

export const PageSchema = z.union([
  PageBodySchema.transform((body) => ({ ...body, costCents: undefined as number | undefined })),
  z
    .looseObject({
      success: z.literal(true),
      data: PageBodySchema,
      meta: nullish(z.looseObject({ costCents: nullish(z.number()) })),
    })
    .transform((envelope) => ({ ...envelope.data, costCents: envelope.meta?.costCents ?? undefined })),
]);
export type PageBody = z.infer<typeof PageSchema>;

/** `{success:false, error:{code, message, retryAfter}}` and FastAPI's `{detail}`. */
export const ApiErrorBodySchema = z.looseObject({
  error: nullish(
    z.looseObject({
      code: nullish(z.string()),
      message: nullish(z.string()),
      retryAfter: nullish(z.number()),
    }),
  ),
  detail: z.unknown().optional(),
});

const ProfileSchema = z.looseObject({ user_id: z.string().regex(/^\d+$/), username: z.string().nullish() });

export const UserDetailsSchema = z.union([z.looseObject({ success: z.literal(true), data: ProfileSchema }).transform((b) => b.data), ProfileSchema]);
export type Profile = z.infer<typeof ProfileSchema>;

/** zod issues as `path: message` lines, naming the field that failed; `at` is where the parsed value sits. */
export function describeIssues(error: z.ZodError, at = ''): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${[at, ...issue.path.map(String)].filter((p) => p !== '').join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
