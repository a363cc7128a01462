import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors, request, Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { RateLimitedError, TransientError } from '../src/errors.js';
import {
  backoffMs,
  isRetryableStatus,
  isTransientNetworkError,
  MAX_DELAY_MS,
  parseRetryAfter,
  retryAfterFromBody,
  WaitBudget,
  withRetries,
  type RetryContext,
} from '../src/net/retry.js';

const NOW = Date.parse('Sun, 06 Nov 1994 08:49:30 GMT');

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('1', NOW)).toBe(1000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
    expect(parseRetryAfter('1.5', NOW)).toBe(1500);
    expect(parseRetryAfter(['3', '9'], NOW)).toBe(3000);
  });

  it('reads every HTTP-date form as the time left until then, and a past date as now', () => {
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(7000);
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(7000);
    expect(parseRetryAfter(new Date(NOW + 42_000).toUTCString(), NOW)).toBe(42_000);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:00 GMT', NOW)).toBe(0);
  });

  it('ignores what is neither', () => {
    for (const value of [undefined, '', '  ', '-1', 'soon', '1s', '0x10', 'Sun, 99 Foo 1994', '2 days']) {
      expect(parseRetryAfter(value, NOW), String(value)).toBeUndefined();
    }
    expect(parseRetryAfter([], NOW)).toBeUndefined();
  });

  it('body error.retryAfter is seconds', () => {
    expect(retryAfterFromBody(1)).toBe(1000);
    expect(retryAfterFromBody(0.25)).toBe(250);
    for (const value of [-1, '1', null, undefined, Number.NaN, Number.POSITIVE_INFINITY]) expect(retryAfterFromBody(value)).toBeUndefined();
  });
});

describe('backoffMs', () => {
  it('is full jitter between 0 and base·2^attempt', () => {
    expect(backoffMs(0, () => 0)).toBe(0);
    expect(backoffMs(0, () => 1)).toBe(250);
    expect(backoffMs(1, () => 1)).toBe(500);
    expect(backoffMs(3, () => 0.5)).toBe(1000);
  });

  it('never exceeds the cap', () => {
    expect(backoffMs(7, () => 1)).toBe(MAX_DELAY_MS);
    expect(backoffMs(60, () => 1)).toBe(MAX_DELAY_MS);
    for (let attempt = 0; attempt < 40; attempt++) {
      const ms = backoffMs(attempt);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(Math.min(MAX_DELAY_MS, 250 * 2 ** attempt));
    }
  });
});

describe('isRetryableStatus', () => {
  it('retries 408, 425, 429 and 5xx but 501/505, nothing else', () => {
    const retryable = [408, 425, 429, 500, 502, 503, 504, 507, 599];
    const final = [200, 301, 304, 400, 401, 402, 403, 404, 409, 410, 416, 422, 501, 505];
    expect(retryable.filter(isRetryableStatus)).toEqual(retryable);
    expect(final.filter(isRetryableStatus)).toEqual([]);
  });
});

describe('isTransientNetworkError', () => {
  it("classifies undici's errors by code", () => {
    expect(isTransientNetworkError(new errors.SocketError('other side closed'))).toBe(true);
    expect(isTransientNetworkError(new errors.HeadersTimeoutError())).toBe(true);
    expect(isTransientNetworkError(new errors.BodyTimeoutError())).toBe(true);
    expect(isTransientNetworkError(new errors.ConnectTimeoutError())).toBe(true);
    expect(isTransientNetworkError(new errors.ResponseContentLengthMismatchError())).toBe(true);
    expect(isTransientNetworkError(new errors.RequestAbortedError())).toBe(false);
    expect(isTransientNetworkError(new errors.InvalidArgumentError('bad header'))).toBe(false);
    expect(isTransientNetworkError(new errors.ClientDestroyedError())).toBe(false);
  });

  it('follows causes and AggregateErrors, and never reads the message', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(isTransientNetworkError(new TypeError('fetch failed', { cause: reset }))).toBe(true);
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:80'), { code: 'ECONNREFUSED' });
    expect(isTransientNetworkError(new AggregateError([refused, refused]))).toBe(true);
    expect(isTransientNetworkError(new Error('ECONNRESET socket hang up, UND_ERR_SOCKET'))).toBe(false);
    expect(isTransientNetworkError(Object.assign(new Error('boom'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBe(false);
    expect(isTransientNetworkError({ code: 'ECONNRESET' })).toBe(false);
    expect(isTransientNetworkError(undefined)).toBe(false);
  });

  it('recognizes what undici really throws for a refused connection and a stalled server', async () => {
    const agent = new Agent();
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await request(`http://127.0.0.1:${closedPort}/`, { dispatcher: agent }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((refused as { code?: unknown }).code).toBe('ECONNREFUSED');
    expect(isTransientNetworkError(refused)).toBe(true);

    const stalled = http.createServer(() => undefined);
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const port = (stalled.address() as AddressInfo).port;
    const timeout = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent, headersTimeout: 100 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    stalled.closeAllConnections();
    await new Promise<void>((resolve) => stalled.close(() => resolve()));
    await agent.close();
    expect((timeout as { code?: unknown }).code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(isTransientNetworkError(timeout)).toBe(true);
  });
});

describe('WaitBudget', () => {
  it('counts overlapping waits once and refuses what would pass the limit', () => {
    const budget = new WaitBudget(2000);
    expect(budget.take(1000, 0)).toBe(true);
    expect(budget.take(1000, 0)).toBe(true); // the same second, for another request
    expect(budget.take(1000, 500)).toBe(true); // 500 ms more
    expect(budget.spentSeconds).toBe(2); // 1500 ms
    expect(budget.take(600, 5000)).toBe(false);
    expect(budget.take(500, 5000)).toBe(true);
    expect(budget.take(1, 10_000)).toBe(false);
    expect(budget.spentSeconds).toBe(2);
  });

  it('a zero budget refuses any wait', () => {
    expect(new WaitBudget(0).take(1, 0)).toBe(false);
  });
});

describe('withRetries', () => {
  /** A retry context whose waits are recorded, not spent: `sleeps` lists each delay asked for. */
  const context = (over: Partial<RetryContext> = {}): RetryContext & { notices: string[]; sleeps: number[] } => {
    const notices: string[] = [];
    const sleeps: number[] = [];
    const sleep = async (ms: number, signal: AbortSignal) => {
      signal.throwIfAborted();
      sleeps.push(ms);
    };
    return { retries: 2, budget: new WaitBudget(60_000), signal: new AbortController().signal, notice: (m) => notices.push(m), sleep, notices, sleeps, ...over };
  };
  const transient = (status?: number, retryAfterMs?: number) => new TransientError('flaky', { ...(status === undefined ? {} : { status }), retryAfterMs });

  it('tries again after transient failures, up to --retries', async () => {
    let attempts = 0;
    const value = await withRetries('x', context(), async () => {
      attempts += 1;
      if (attempts < 3) throw transient(503, 0);
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(attempts).toBe(3);
  });

  it('throws the last transient error when retries run out', async () => {
    let attempts = 0;
    await expect(
      withRetries('x', context({ retries: 2 }), async () => {
        attempts += 1;
        throw transient(undefined, 0);
      }),
    ).rejects.toBeInstanceOf(TransientError);
    expect(attempts).toBe(3);
  });

  it('never retries an unknown error (a bug)', async () => {
    let attempts = 0;
    const bug = new TypeError('undefined is not a function');
    await expect(
      withRetries('x', context(), async () => {
        attempts += 1;
        throw bug;
      }),
    ).rejects.toBe(bug);
    expect(attempts).toBe(1);
  });

  it('429 past the wait budget, or asking more than it has left, stops at once', async () => {
    let attempts = 0;
    const fail429 = async () => {
      attempts += 1;
      throw transient(429, 1000);
    };
    await expect(withRetries('x', context({ budget: new WaitBudget(0) }), fail429)).rejects.toBeInstanceOf(RateLimitedError);
    expect(attempts).toBe(1);
    attempts = 0;
    await expect(
      withRetries('x', context({ budget: new WaitBudget(2000) }), async () => {
        attempts += 1;
        throw transient(429, 5000);
      }),
    ).rejects.toThrow(/rate-limited/);
    expect(attempts).toBe(1);
  });

  it('429s spend the wait budget, not the retries, and wait at least 1 s', async () => {
    let attempts = 0;
    const ctx = context({ retries: 0 });
    const value = await withRetries('x', ctx, async () => {
      attempts += 1;
      if (attempts === 1) throw transient(429, 0);
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(attempts).toBe(2);
    expect(ctx.sleeps).toEqual([1000]);
  });

  it('waits what Retry-After asks: 1 s for a 429, capped at 60 s for a 503', async () => {
    const ctx = context({ retries: 2 });
    let attempts = 0;
    await withRetries('x', ctx, async () => {
      attempts += 1;
      if (attempts === 1) throw transient(429, 1000);
      if (attempts === 2) throw transient(503, 120_000);
      return 'ok';
    });
    expect(ctx.sleeps).toEqual([1000, 60_000]);
  });

  it('announces a long wait, and an abort ends it', async () => {
    const controller = new AbortController();
    const ctx = context({ signal: controller.signal });
    ctx.notice = (m) => {
      ctx.notices.push(m);
      controller.abort();
    };
    await expect(
      withRetries('/user/medias (page 2)', ctx, async () => {
        throw transient(503, 30_000);
      }),
    ).rejects.toThrow(/abort/i);
    expect(ctx.notices).toEqual(['/user/medias (page 2): flaky; waiting 30s before trying again']);
  });

  it('does not retry once the run is interrupted', async () => {
    const controller = new AbortController();
    controller.abort();
    let attempts = 0;
    await expect(
      withRetries('x', context({ signal: controller.signal }), async () => {
        attempts += 1;
        throw transient(503, 0);
      }),
    ).rejects.toBeInstanceOf(TransientError);
    expect(attempts).toBe(1);
  });
});
