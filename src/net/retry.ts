import { setTimeout as timersSleep } from 'node:timers/promises';
import { RateLimitedError, TransientError } from '../errors.js';

/**
 * One retry policy for API calls and file transfers: which failures are worth another try,
 * and how long to wait before it. Unknown errors (bugs) are never retried.
 *
 * Why our own loop rather than undici's RetryAgent/RetryHandler: the API's POSTs must be
 * retried (they are idempotent reads; undici leaves POST out by default), 429s are bounded by
 * a run-wide time budget (--max-wait) rather than a count, and a transfer's resume has to know
 * how much of the body is already safely on disk, which only the downloader knows.
 */

/** undici's and the OS's codes for a connection that failed or stalled: worth another try. */
const TRANSIENT_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Non-429 Retry-After asks are believed up to this: they spend --retries, not --max-wait. */
const MAX_RETRY_AFTER_MS = 60_000;
/** A 429 always costs at least this much of the budget, so `Retry-After: 0` cannot spin forever. */
const MIN_RATE_LIMIT_WAIT_MS = 1_000;
const BASE_DELAY_MS = 250;
export const MAX_DELAY_MS = 20_000;
/** Waits longer than this are announced, so a silent pause is never mistaken for a hang. */
const ANNOUNCE_WAIT_MS = 5_000;

/** 408, 425, 429 and 5xx; 501 and 505 say the server will never do it, so they are final. */
export function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 425 || status === 429) return true;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

/** Classified by the error's stable `code` (undici's or the OS's), never by message text. */
export function isTransientNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    // A connection to a host with several addresses fails as an AggregateError of them all.
    if (e instanceof AggregateError && e.errors.some((inner) => isTransientNetworkError(inner))) return true;
  }
  return false;
}

/** An error's stable code and message, never the request it may carry (and so never the key). */
export function networkMessage(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const causeCode = error.cause instanceof Error ? (error.cause as { code?: unknown }).code : undefined;
    const shown = typeof code === 'string' ? code : typeof causeCode === 'string' ? causeCode : undefined;
    return shown && !error.message.startsWith(shown) ? `${shown}: ${error.message}` : error.message;
  }
  return String(error);
}

/**
 * `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3); a date in the past means
 * now. Malformed values are ignored (undefined), never fatal.
 */
export function parseRetryAfter(header: string | readonly string[] | undefined, now = Date.now()): number | undefined {
  const value = (typeof header === 'string' ? header : header?.[0])?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // Every HTTP-date form starts with a day name; Date.parse alone would take "-1" or "2" as a year.
  if (!/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /i.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** agntdata's body `error.retryAfter`, in seconds; anything but a finite non-negative number is ignored. */
export function retryAfterFromBody(seconds: unknown): number | undefined {
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined;
}

/** Exponential backoff with full jitter (AWS's "Exponential Backoff And Jitter"): 0 ≤ ms ≤ min(cap, base·2^attempt). */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt));
}

/**
 * The wall-clock time one run may spend waiting on 429s (--max-wait), shared by every request.
 * Waits that overlap (eight downloads told to wait the same second) are counted once.
 */
export class WaitBudget {
  private spentMs = 0;
  private waitingUntil = 0;
  constructor(readonly limitMs: number) {}
  get spentSeconds(): number {
    return Math.round(this.spentMs / 1000);
  }
  /** Take a wait of `ms` from now, or return false (taking nothing) if it would exceed the budget. */
  take(ms: number, now = Date.now()): boolean {
    const until = now + ms;
    const added = Math.max(0, until - Math.max(now, this.waitingUntil));
    if (this.spentMs + added > this.limitMs) return false;
    this.spentMs += added;
    this.waitingUntil = Math.max(this.waitingUntil, until);
    return true;
  }
}

export interface RetryContext {
  retries: number;
  budget: WaitBudget;
  signal: AbortSignal;
  notice: (message: string) => void;
  /** How a wait is spent: real time by default; tests pass one that records the delays. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Told of each retry before its wait (the API client's `-v` line says how long). */
  onRetry?: (error: TransientError, waitMs: number) => void;
}

/** Wait `ms`, or reject as soon as `signal` aborts. */
function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  return timersSleep(ms, undefined, { signal });
}

/**
 * Run `attempt` until it succeeds, throws something that is not a TransientError, or runs out
 * of retries (then the last TransientError is thrown). 429s draw on the run's wait budget
 * instead of the retry count: the server said when to come back, and --max-wait is the bound.
 * A 429 asking for more than the budget has left ends the run's waiting at once with
 * RateLimitedError: waiting part of it would only be thrown away.
 */
export async function withRetries<T>(what: string, context: RetryContext, attempt: (n: number) => Promise<T>): Promise<T> {
  let failures = 0;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!(error instanceof TransientError) || context.signal.aborted) throw error;
      let waitMs: number;
      if (error.status === 429) {
        waitMs = Math.max(MIN_RATE_LIMIT_WAIT_MS, error.retryAfterMs ?? backoffMs(n));
        if (!context.budget.take(waitMs)) throw new RateLimitedError(context.budget.spentSeconds, Math.round(context.budget.limitMs / 1000));
      } else {
        if (++failures > context.retries) throw error;
        waitMs = Math.min(error.retryAfterMs ?? backoffMs(failures), MAX_RETRY_AFTER_MS);
      }
      context.onRetry?.(error, waitMs);
      if (waitMs >= ANNOUNCE_WAIT_MS) context.notice(`${what}: ${error.message}; waiting ${Math.round(waitMs / 1000)}s before trying again`);
      await (context.sleep ?? realSleep)(waitMs, context.signal);
    }
  }
}
