import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimitedError } from '../errors.js';

/**
 * One retry policy for API calls and file transfers: which failures are worth another try,
 * and how long to wait before it. Unknown errors (bugs) are never retried.
 */

/** undici's and the OS's codes for a connection that failed or stalled: worth another try. */
const TRANSIENT_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_CLOSED',
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

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
/** A single Retry-After is believed up to this; longer asks are capped (cron must not hang). */
export const MAX_RETRY_AFTER_MS = 300_000;
const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 20_000;
/** Waits longer than this are announced, so a silent pause is never mistaken for a hang. */
const ANNOUNCE_WAIT_MS = 5_000;

/** A failure that may succeed if tried again: a retryable status, or a connection-level error. */
export class TransientError extends Error {
  override name = 'TransientError';
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { status?: number; retryAfterMs?: number | undefined; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

/** Classified by the error's stable `code` (undici's or the OS's), never by message text. */
export function isTransientNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  }
  return false;
}

/** `Retry-After` as delta-seconds or an HTTP date; malformed values are ignored, not fatal. */
export function parseRetryAfter(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with full jitter (AWS's "Exponential Backoff And Jitter"). */
export function backoffMs(attempt: number, random = Math.random): number {
  return Math.round(random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt));
}

/** The time one run may spend waiting on 429s (--max-wait), shared by every request. */
export class WaitBudget {
  private spentMs = 0;
  constructor(readonly limitMs: number) {}
  get spentSeconds(): number {
    return Math.round(this.spentMs / 1000);
  }
  /** Take `ms` from the budget, or return false (taking nothing) if that would exceed it. */
  take(ms: number): boolean {
    if (this.spentMs + ms > this.limitMs) return false;
    this.spentMs += ms;
    return true;
  }
}

export interface RetryContext {
  retries: number;
  budget: WaitBudget;
  signal: AbortSignal;
  notice: (message: string) => void;
}

/**
 * Run `attempt` until it succeeds, throws something that is not a TransientError, or runs out
 * of retries. 429s draw on the run's wait budget instead of the retry count: past --max-wait
 * the run gives up with RateLimitedError.
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
        waitMs = Math.min(error.retryAfterMs ?? Math.max(1000, backoffMs(n)), MAX_RETRY_AFTER_MS);
        if (!context.budget.take(waitMs)) throw new RateLimitedError(context.budget.spentSeconds);
      } else {
        if (++failures > context.retries) throw error;
        waitMs = Math.min(error.retryAfterMs ?? backoffMs(failures), MAX_RETRY_AFTER_MS);
      }
      if (waitMs >= ANNOUNCE_WAIT_MS) context.notice(`${what}: ${error.message}; waiting ${Math.round(waitMs / 1000)}s before trying again`);
      await sleep(waitMs, undefined, { signal: context.signal });
    }
  }
}
