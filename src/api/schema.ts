import { z } from 'zod';

/**
 * The agntdata envelopes, as far as we rely on them: the page, the error body, user details.
 * Objects are loose (unknown fields pass); a missing or mistyped field we need is an error that
 * names it. The tweets inside a page are the media stage's to read (src/media/schema.ts).
 */

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

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
