import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReplayServer, ReplayServerOptions } from '../fixtures/replay-server.js';
import { archiveRun, listFiles, ndjson, tempDir, TEST_KEY, useReplayServers, type CliResult } from './helpers/cli.js';
import { expectMedia, expectNoStack, pagesAsked } from './helpers/expect.js';
import { answer } from './helpers/faults.js';
import { ALL, MP4_FILE, onPages, pageOf, seedServerPages, T1, USER } from './helpers/seed.js';
import { MP4_START } from './helpers/tweets.js';

/**
 * The API's failures, end to end: the built CLI against the replay server with faults injected
 * through its `handle` hook. Each test checks the exit code, the files on disk (bytes compared
 * with what the server serves) and the requests the server saw.
 */

const serve = useReplayServers();

function run(server: ReplayServer, out: string, extra: readonly string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
  return archiveRun(server, out, extra, { preset: 'retrying', env });
}

describe('retried API failures', () => {
  it('429 with Retry-After: 1, then success: waits the second and loses nothing', async () => {
    let throttled = 0;
    const server = await serve({
      handle: (req, res) => {
        if (pageOf(req) !== 2 || throttled++ > 0) return false;
        return answer(res, 429, { success: false, error: { code: 'RATE_LIMITED', message: 'slow down', retryAfter: 1 } }, { 'retry-after': '1' });
      },
    });
    const out = tempDir();
    const result = await run(server, out);
    expect(result.code, result.stderr).toBe(0);
    expectMedia(server, out, ALL);
    expect(pagesAsked(server)).toEqual([1, 2, 2, 3]);
    expect(ndjson(result.stdout).map((r) => r['status'])).toEqual(Array(7).fill('downloaded'));
    expectNoStack(result);
  });

  it('503 twice, then 200: retried with backoff', async () => {
    let failures = 0;
    const server = await serve({
      handle: (req, res) => (pageOf(req) === 1 && failures++ < 2 ? answer(res, 503, { success: false, error: { code: 'UNAVAILABLE' } }) : false),
    });
    const out = tempDir();
    const result = await run(server, out, ['--retries', '2']);
    expect(result.code, result.stderr).toBe(0);
    expectMedia(server, out, ALL);
    expect(pagesAsked(server)).toEqual([1, 1, 1, 2, 3]);
  });

  it('503 every time: exit 4 once --retries are spent, naming the endpoint and the page', async () => {
    const server = await serve({ handle: (req, res) => (pageOf(req) === 2 ? answer(res, 503, '<html>down</html>') : false) });
    const out = tempDir();
    const result = await run(server, out, ['--retries', '1']);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/kept failing for \/user\/medias\/continuation \(page 2\): HTTP 503, 1 retry spent; the next run resumes/);
    expect(pagesAsked(server)).toEqual([1, 2, 2]);
    // Paging stopped; what page 1 found is still saved.
    expectMedia(server, out, onPages(1));
    expectNoStack(result);
  });

  it('an API that stalls past --timeout is abandoned and asked again', async () => {
    let stalled = 0;
    const server = await serve({
      // Read the request, never answer: only the client's headers timeout can end this.
      handle: (req) => pageOf(req) === 2 && stalled++ === 0,
    });
    const out = tempDir();
    const result = await run(server, out, ['--timeout', '1', '--retries', '1']);
    expect(result.code, result.stderr).toBe(0);
    expectMedia(server, out, ALL);
    expect(pagesAsked(server)).toEqual([1, 2, 2, 3]);
  });
});

describe('rate limits and --max-wait', () => {
  it('--max-wait 1 with 429 Retry-After: 1 every time: exit 4 "rate-limited", state saved, the next run resumes', async () => {
    let throttle = true;
    const server = await serve({
      handle: (req, res) =>
        throttle && pageOf(req) === 2 ? answer(res, 429, { success: false, error: { code: 'RATE_LIMITED' } }, { 'retry-after': '1' }) : false,
    });
    const out = tempDir();
    const first = await run(server, out, ['--max-wait', '1']);
    expect(first.code, first.stderr).toBe(4);
    expect(first.stderr).toMatch(/rate-limited;.*the next run resumes/);
    // Waited once (1 s of the 1 s budget), then gave up instead of waiting again.
    expect(pagesAsked(server)).toEqual([1, 2, 2]);
    expectMedia(server, out, onPages(1));
    expectNoStack(first);

    throttle = false;
    server.resetStats();
    const second = await run(server, out);
    expect(second.code, second.stderr).toBe(0);
    expectMedia(server, out, ALL);
    // Page 1 down to the known head, then page 2 from the saved token: page 2 is not lost.
    expect(pagesAsked(server)).toEqual([1, 2, 3]);
  });

  it('the CDN answering 429 past --max-wait ends the run with exit 4 too, and the next run fetches the rest', async () => {
    let throttle = true;
    const server = await serve({
      handle: (req, res) => (throttle && req.kind === 'cdn' && req.path.endsWith('.mp4') ? answer(res, 429, {}, { 'retry-after': '1' }) : false),
    });
    const out = tempDir();
    const first = await run(server, out, ['--max-wait', '1']);
    expect(first.code, first.stderr).toBe(4);
    expect(first.stderr).toMatch(/\nx-media-dump: rate-limited; waited 1s and the server asks for more than the 1s --max-wait allows; the next run resumes\n$/);
    expect(ndjson(first.stdout).filter((r) => r['status'] === 'failed').map((r) => r['media_key'])).toEqual(['16_1339647656373661698']);
    expectMedia(server, out, ALL.filter((name) => name !== MP4_FILE));

    throttle = false;
    server.resetStats();
    const second = await run(server, out);
    expect(second.code, second.stderr).toBe(0);
    expectMedia(server, out, ALL);
    expect(server.cdnRequests().map((r) => r.path)).toEqual(['/video.twimg.com/tweet_video/EpdichpWMAIPcr0.mp4']);
  });

  it('a Retry-After (header or body error.retryAfter) longer than --max-wait allows ends paging at once', async () => {
    for (const fault of [
      { headers: { 'retry-after': '5' }, body: { success: false, error: { code: 'RATE_LIMITED' } } },
      { headers: {}, body: { success: false, error: { code: 'RATE_LIMITED', message: 'Too many requests', retryAfter: 5 } } },
    ]) {
      const server = await serve({ handle: (req, res) => (pageOf(req) === 2 ? answer(res, 429, fault.body, fault.headers) : false) });
      const out = tempDir();
      const result = await run(server, out, ['--max-wait', '2']);
      expect(result.code, JSON.stringify(fault)).toBe(4);
      expect(result.stderr).toMatch(/rate-limited/);
      expect(pagesAsked(server), JSON.stringify(fault)).toEqual([1, 2]);
      expectMedia(server, out, onPages(1));
    }
  });
});

describe('API refusals (never retried)', () => {
  it('401: exit 3 "API key rejected", one request, nothing downloaded', async () => {
    const server = await serve({ apiKey: 'agnt_live_SOMEONE_ELSE' });
    const out = tempDir();
    const result = await run(server, out);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/API key rejected \(HTTP 401\) — check AGNTDATA_API_KEY/);
    expect(server.apiRequests()).toHaveLength(1);
    expect(server.cdnRequests()).toHaveLength(0);
    expectMedia(server, out, []);
    expectNoStack(result);
  });

  it('403: exit 3 as well', async () => {
    const server = await serve({ handle: (req, res) => (pageOf(req) === 1 ? answer(res, 403, { success: false, error: { code: 'FORBIDDEN' } }) : false) });
    const out = tempDir();
    const result = await run(server, out);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/API key rejected \(HTTP 403\)/);
    expect(pagesAsked(server)).toEqual([1]);
  });

  it('402 after page 2: exit 3 "out of credits", pages 1-2 saved, the next run pays only for page 3', async () => {
    let broke = true;
    const server = await serve({
      handle: (req, res) =>
        broke && pageOf(req) === 3 ? answer(res, 402, { success: false, error: { code: 'INSUFFICIENT_CREDITS', message: 'Insufficient credits' } }) : false,
    });
    const out = tempDir();
    const first = await run(server, out);
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toMatch(/out of credits/);
    expect(pagesAsked(server)).toEqual([1, 2, 3]);
    expectMedia(server, out, onPages(1, 2));
    expect(ndjson(first.stdout).filter((r) => r['status'] === 'downloaded')).toHaveLength(4);
    expectNoStack(first);

    broke = false;
    server.resetStats();
    const second = await run(server, out);
    expect(second.code, second.stderr).toBe(0);
    expectMedia(server, out, ALL);
    expect(pagesAsked(server)).toEqual([1, 3]);
  });

  it('INSUFFICIENT_CREDITS in a 200 body counts as out of credits too', async () => {
    const server = await serve({
      handle: (req, res) => (pageOf(req) === 2 ? answer(res, 200, { success: false, error: { code: 'INSUFFICIENT_CREDITS' } }) : false),
    });
    const out = tempDir();
    const result = await run(server, out);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/out of credits/);
    expect(pagesAsked(server)).toEqual([1, 2]);
    expectMedia(server, out, onPages(1));
  });

  it("422: exit 4 quoting the API's detail; page-1 media still saved", async () => {
    const detail = [{ loc: ['body', 'continuation_token'], msg: 'token expired', type: 'value_error' }];
    const server = await serve({ handle: (req, res) => (pageOf(req) === 2 ? answer(res, 422, { detail }) : false) });
    const out = tempDir();
    const result = await run(server, out);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/refused the request to \/user\/medias\/continuation \(page 2, HTTP 422\): body\.continuation_token: token expired/);
    expect(pagesAsked(server)).toEqual([1, 2]);
    expectMedia(server, out, onPages(1));
    expectNoStack(result);
  });
});

describe('payloads we cannot read', () => {
  it('malformed JSON: exit 4 naming the endpoint and the page, not retried; page-1 media saved', async () => {
    const server = await serve({
      handle: (req, res) => (pageOf(req) === 2 ? answer(res, 200, '{"success":true,"data":{"results":[{"tweet_id":"15') : false),
    });
    const out = tempDir();
    const result = await run(server, out);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/malformed JSON for \/user\/medias\/continuation \(page 2\)/);
    expect(pagesAsked(server)).toEqual([1, 2]);
    expectMedia(server, out, onPages(1));
    expectNoStack(result);
  });

  it('a page that is JSON but not a page: exit 4 naming the endpoint and the page', async () => {
    const server = await serve({ handle: (req, res) => (pageOf(req) === 2 ? answer(res, 200, { results: 'nope', continuation_token: 7 }) : false) });
    const out = tempDir();
    const result = await run(server, out);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/\/user\/medias\/continuation response we cannot read \(page 2\)/);
    expect(pagesAsked(server)).toEqual([1, 2]);
    expectMedia(server, out, onPages(1));
  });
});

describe('loop guard', () => {
  it('a continuation token seen before ends paging with a warning; media found are saved', async () => {
    const pages = seedServerPages();
    const [page1, page2] = pages[USER] ?? [];
    const envelope = page2 as { data: { continuation_token: string } };
    // Page 2 hands back page 1's token: without the guard this pages forever.
    const looping = { ...envelope, data: { ...envelope.data, continuation_token: T1 } };
    const server = await serve({ pages: { [USER]: [page1, looping] } });
    const out = tempDir();
    const result = await run(server, out);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/continuation token DAABCgABFu-OJkw_… twice; stopped paging to avoid a loop/);
    expect(server.apiRequests().map((r) => r.token ?? null)).toEqual([null, T1]);
    expectMedia(server, out, onPages(1, 2));
  });
});

describe('secrets and stack traces', () => {
  /** Scenarios that fail in different places (auth, API, transfer, allowlist) and one that succeeds. */
  const scenarios: { name: string; options: () => Promise<ReplayServerOptions>; code: number }[] = [
    { name: 'success', options: async () => ({}), code: 0 },
    { name: '401', options: async () => ({ apiKey: 'agnt_live_SOMEONE_ELSE' }), code: 3 },
    { name: '503 always', options: async () => ({ handle: (req, res) => (pageOf(req) === 1 ? answer(res, 503, { error: { code: 'DOWN' } }) : false) }), code: 4 },
    { name: '422', options: async () => ({ handle: (req, res) => (pageOf(req) === 1 ? answer(res, 422, { detail: 'user_id: bad' }) : false) }), code: 4 },
    { name: 'malformed', options: async () => ({ handle: (req, res) => (pageOf(req) === 1 ? answer(res, 200, '{"results":[') : false) }), code: 4 },
    {
      name: 'cdn reset and foreign redirect',
      options: async () => ({
        handle: (req, res) => {
          if (req.kind !== 'cdn') return false;
          if (req.path.endsWith('.mp4')) {
            res.writeHead(200, { 'content-length': '24149' });
            res.write(Buffer.concat([MP4_START, Buffer.alloc(88)]), () => res.socket?.destroy());
            return true;
          }
          res.writeHead(302, { location: 'http://127.0.0.2:9/elsewhere.jpg', 'content-length': '0' }).end();
          return true;
        },
      }),
      code: 1,
    },
  ];

  it('the API key appears in no output and no file under --out, DEBUG or not; no stack trace without DEBUG', async () => {
    const runs = scenarios.flatMap((scenario) => [false, true].map((debug) => ({ scenario, debug })));
    // Independent servers and folders: run them side by side to keep the suite fast.
    const results = await Promise.all(
      runs.map(async ({ scenario, debug }) => {
        const server = await serve(await scenario.options());
        const out = tempDir();
        const result = await run(server, out, ['--retries', '1'], debug ? { DEBUG: 'x-media-dump' } : {});
        return { scenario, debug, server, out, result };
      }),
    );
    for (const { scenario, debug, server, out, result } of results) {
      const label = `${scenario.name}${debug ? ' (DEBUG)' : ''}`;
      expect(result.code, `${label}: ${result.stderr}`).toBe(scenario.code);
      expect(result.stdout.includes(TEST_KEY), label).toBe(false);
      expect(result.stderr.includes(TEST_KEY), label).toBe(false);
      expect(result.stderr, label).not.toMatch(/Bearer/i);
      const files = listFiles(out);
      expect(files.length, label).toBeGreaterThan(0);
      for (const file of files) expect(fs.readFileSync(path.join(out, file)).includes(TEST_KEY), `${label}: ${file}`).toBe(false);
      if (!debug) expectNoStack(result);
      // The server did get the key: the searches above looked for something that was there to leak.
      expect(server.apiRequests()[0]?.headers.authorization, label).toBe(`Bearer ${TEST_KEY}`);
    }
  });
});
