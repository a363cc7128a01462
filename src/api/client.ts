import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { ApiAuthError, ApiCreditsError, ApiFailedError, NotFoundError, PayloadError, StallError, TokenRejectedError, TransientError, XmdError } from '../errors.js';
import { withoutUserinfo } from '../net/http.js';
import { readBody, STALL_RETRIES } from '../net/rate.js';
import { isRetryableStatus, isTransientNetworkError, networkMessage, parseRetryAfter, retryAfterFromBody, withRetries, type RetryContext } from '../net/retry.js';
import type { ApiRequestEvent, Secret } from '../types.js';
import { ApiErrorBodySchema, describeIssues, PageSchema, UserDetailsSchema, type PageBody, type Profile } from './schema.js';

export interface ApiClientOptions {
  apiBase: string;
  apiKey: Secret;
  timeoutMs: number;
  /** --min-rate: a response body slower than this over --timeout is a stall. */
  minRate: number;
  dispatcher: Dispatcher;
  retry: RetryContext;
  /** Told of every request once its fate is known (answered, or tried again after a wait): `-v`. */
  onRequest?: (event: ApiRequestEvent) => void;
}

/** A page as parsed, and its body's text exactly as the API sent it. */
export type FetchedBody = PageBody & { raw: string };

/** No page comes near this; a body that runs past it is a broken server. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** What the API has cost this run: only successful requests are charged. */
export interface ApiCost {
  requests: number;
  cents: number;
  /** Requests the API answered no (401, 402, 403; 404 for a user it does not know): made, but not charged. */
  refused: number;
}

/**
 * agntdata's REST API. Every request carries the bearer key (and only requests to the API base
 * do). The POSTs here are idempotent reads, so, unlike undici's and ky's defaults, they are retried.
 */
export class ApiClient {
  readonly cost: ApiCost = { requests: 0, cents: 0, refused: 0 };
  constructor(private readonly options: ApiClientOptions) {}

  /**
   * Page 1 (`token` null) or a continuation page of a user's media, with the body's text as it
   * came (the archive keeps it). `userId` is sent digit-exact.
   */
  async mediaPage(userId: string, token: string | null, limit: number, pageNo: number): Promise<FetchedBody> {
    // Built by hand: a 19-digit user_id must not pass through a JS number on its way out.
    const body =
      token === null
        ? `{"user_id":${userId},"limit":${limit}}`
        : `{"user_id":${userId},"continuation_token":${JSON.stringify(token)},"limit":${limit}}`;
    const endpoint = token === null ? '/user/medias' : '/user/medias/continuation';
    const { data, text } = await this.call('POST', endpoint, body, PageSchema, `page ${pageNo}`);
    return { ...data, raw: text };
  }

  /** A user's profile by handle or by numeric id, via `GET /user/details`. Unknown user → undefined. */
  async profile(user: { handle: string } | { id: string }): Promise<Profile | undefined> {
    const [query, what] = 'handle' in user ? [`username=${encodeURIComponent(user.handle)}`, `@${user.handle}`] : [`user_id=${user.id}`, `user ${user.id}`];
    try {
      return (await this.call('GET', `/user/details?${query}`, undefined, UserDetailsSchema, what)).data;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  private async call<S extends z.ZodType>(method: 'GET' | 'POST', endpoint: string, body: string | undefined, schema: S, what: string): Promise<{ data: z.output<S>; text: string }> {
    const path = endpoint.split('?')[0] ?? endpoint;
    let json: unknown;
    let text = '';
    let stalls = 0;
    const retries = this.options.retry.retries;
    // For -v: each try is told once its fate is known; a failed one waits here for the retry
    // loop to say whether, and after how long, it is tried again.
    const report = this.options.onRequest ?? (() => undefined);
    let failed: ApiRequestEvent | undefined;
    let lastAnswer = { attempt: 0, status: 0, ms: 0 };
    const retry: RetryContext = {
      ...this.options.retry,
      onRetry: (_error, waitMs) => {
        if (failed) report({ ...failed, retryInMs: waitMs });
        failed = undefined;
      },
    };
    try {
      json = await withRetries(`${path} (${what})`, retry, async (attempt) => {
        const started = performance.now();
        let status: number | undefined;
        try {
          const answer = await this.send(method, endpoint, body).catch((error: unknown) => {
            if (error instanceof StallError && ++stalls > Math.min(STALL_RETRIES, retries)) throw new ApiFailedError(failedText(path, what, error, stalls - 1));
            throw error;
          });
          const { statusCode, headers } = answer;
          status = statusCode;
          text = answer.text;
          if (statusCode < 200 || statusCode >= 300) throw this.errorFor(statusCode, headers['retry-after'], text, path, what);
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            throw new PayloadError(`the API sent malformed JSON for ${path} (${what}); try again later`);
          }
          // `{"success": false, …}` is a failure whatever the status: judged by its error code.
          const failure = reportedFailure(parsed);
          if (failure !== undefined) throw this.errorFor(CODE_STATUS[failure] ?? statusCode, headers['retry-after'], text, path, what);
          lastAnswer = { attempt, status: statusCode, ms: performance.now() - started };
          return parsed;
        } catch (error) {
          if (error instanceof ApiAuthError || error instanceof ApiCreditsError || error instanceof NotFoundError) this.cost.refused += 1;
          failed = { method, endpoint, what, attempt, status, ms: performance.now() - started, cents: 0, error: error instanceof Error ? error.message : String(error) };
          throw error;
        }
      });
    } catch (error) {
      if (failed) report(failed);
      if (!(error instanceof TransientError)) throw error;
      throw new ApiFailedError(failedText(path, what, error, retries));
    }
    const done = { method, endpoint, what, ...lastAnswer };
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const error = new PayloadError(`the API sent a ${path} response we cannot read (${what}): ${describeIssues(parsed.error)}`);
      report({ ...done, cents: 0, error: error.message });
      throw error;
    }
    this.cost.requests += 1;
    const costCents = (parsed.data as { costCents?: unknown }).costCents;
    const cents = typeof costCents === 'number' ? costCents : 1;
    this.cost.cents += cents;
    report({ ...done, cents });
    return { data: parsed.data, text };
  }

  private async send(method: 'GET' | 'POST', endpoint: string, body: string | undefined) {
    try {
      const response = await request(`${this.options.apiBase}${endpoint}`, {
        method,
        dispatcher: this.options.dispatcher,
        signal: this.options.retry.signal,
        headers: {
          authorization: `Bearer ${this.options.apiKey.reveal()}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body }),
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      const limits = { minBytesPerSecond: this.options.minRate, windowMs: this.options.timeoutMs };
      const text = (await readBody(response.body, limits, MAX_RESPONSE_BYTES, "the API's response")).toString('utf8');
      return { statusCode: response.statusCode, headers: response.headers, text };
    } catch (error) {
      if (error instanceof TransientError || error instanceof XmdError) throw error;
      // undici's errors can carry the request (and so the key): keep only the code and message.
      if (isTransientNetworkError(error)) throw new TransientError(networkMessage(error));
      if (this.options.retry.signal.aborted) throw error;
      throw new ApiFailedError(`cannot reach the API at ${withoutUserinfo(this.options.apiBase)}: ${networkMessage(error)}`);
    }
  }

  private errorFor(status: number, retryAfter: string | string[] | undefined, text: string, path: string, what: string): Error {
    let body: z.infer<typeof ApiErrorBodySchema> | undefined;
    try {
      const parsed = ApiErrorBodySchema.safeParse(JSON.parse(text));
      if (parsed.success) body = parsed.data;
    } catch {
      body = undefined;
    }
    const code = body?.error?.code;
    if (status === 402 || code === 'INSUFFICIENT_CREDITS') return new ApiCreditsError();
    if (status === 401 || status === 403) return new ApiAuthError(status);
    if (isRetryableStatus(status)) {
      const retryAfterMs = parseRetryAfter(retryAfter) ?? retryAfterFromBody(body?.error?.retryAfter);
      return new TransientError(`HTTP ${status}${code ? ` ${code}` : ''}`, { status, retryAfterMs });
    }
    const tokenRejected = path === '/user/medias/continuation' && REJECTED_TOKEN_STATUS.has(status);
    if (status === 404 && !tokenRejected && (path === '/user/details' || code === 'NOT_FOUND')) return new NotFoundError(`no such user: ${what}`);
    const message = body?.error?.message ?? code;
    const text422 = `the API refused the request to ${path} (${what}, HTTP 422): ${detailOf(body?.detail)}`;
    const answered = status >= 200 && status < 300 ? `reported a failure${code ? ` (${code})` : ''}` : `answered HTTP ${status}`;
    const textOther = `the API ${answered} to ${path} (${what})${message && message !== code ? `: ${message}` : ''}`;
    if (tokenRejected) return new TokenRejectedError(status === 422 ? text422 : textOther);
    return new ApiFailedError(status === 422 ? text422 : textOther);
  }
}

function failedText(path: string, what: string, error: Error, retries: number): string {
  return `the API kept failing for ${path} (${what}): ${error.message}, ${retries} ${retries === 1 ? 'retry' : 'retries'} spent; the next run resumes`;
}

const REJECTED_TOKEN_STATUS = new Set([400, 404, 410, 422]);

/** agntdata's error codes, as the HTTP status each stands for when a 200 carries one. */
const CODE_STATUS: Record<string, number> = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  INSUFFICIENT_CREDITS: 402,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
};

/** The error code of a body that says `success: false` (`''` when it gives none), else undefined. */
function reportedFailure(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object' || (json as { success?: unknown }).success !== false) return undefined;
  const parsed = ApiErrorBodySchema.safeParse(json);
  return (parsed.success ? parsed.data.error?.code : undefined) ?? '';
}

function detailOf(detail: unknown): string {
  if (Array.isArray(detail)) {
    return detail
      .map((d: unknown) => {
        if (d && typeof d === 'object') {
          const { loc, msg } = d as { loc?: unknown; msg?: unknown };
          return `${Array.isArray(loc) ? loc.join('.') : ''}${Array.isArray(loc) && loc.length > 0 ? ': ' : ''}${typeof msg === 'string' ? msg : ''}`;
        }
        return String(d);
      })
      .join('; ');
  }
  return typeof detail === 'string' ? detail : JSON.stringify(detail ?? 'no detail');
}
