import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { expectMedia, served } from './helpers/expect.js';
import type { RecordedRequest, ReplayServer } from '../fixtures/replay-server.js';
import { isAllowedUrl, refusalOf } from '../src/net/http.js';
import { archiveRun, listFiles, ndjson, tempDir, useReplayServers, type CliResult } from './helpers/cli.js';
import { ALL, MP4, MP4_FILE } from './helpers/seed.js';
import { sha256 } from './helpers/tweets.js';

/**
 * Transfers from the CDN under faults, end to end: cuts, truncation, stalls, ignored ranges,
 * redirects. Each test checks the exit code, the bytes on disk against what the server serves,
 * and the requests the server saw (Range headers included).
 */

const HALF = 12_000;

const serve = useReplayServers();

function run(server: ReplayServer, out: string, extra: readonly string[] = []): Promise<CliResult> {
  return archiveRun(server, out, extra, { preset: 'retrying' });
}

const isMp4 = (req: RecordedRequest) => req.kind === 'cdn' && req.path === `/${MP4}`;
const mp4Requests = (server: ReplayServer) => server.cdnRequests().filter(isMp4);

/** The replay server's ETag for these bytes (what If-Range must echo). */
const etagOf = (bytes: Buffer) => `"${sha256(bytes).slice(0, 16)}"`;

/**
 * Send headers for the whole file, then only `upTo` bytes of it, then `after` the connection.
 * The cut comes a moment after the bytes, as on a real network: a FIN in the same read as the
 * data would make undici drop bytes it already holds, and the resume point would vary.
 */
function cutAfter(res: http.ServerResponse, bytes: Buffer, upTo: number, after: 'destroy' | 'end' | 'stall'): true {
  res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(bytes.length), etag: etagOf(bytes) });
  res.write(bytes.subarray(0, upTo), () => {
    if (after === 'stall') return;
    setTimeout(() => (after === 'destroy' ? res.socket?.destroy() : res.socket?.end()), 50).unref();
  });
  return true;
}

/** Nothing half-written is left in the state folder's temp area. */
function expectNoPartials(out: string): void {
  expect(listFiles(out).filter((f) => f.endsWith('.part'))).toEqual([]);
}

function recordOf(result: CliResult, mediaKeyPrefix: string): Record<string, unknown> | undefined {
  return ndjson(result.stdout).find((r) => String(r['media_key']).startsWith(mediaKeyPrefix));
}

describe('cut transfers', () => {
  it('a connection reset halfway through a body resumes with Range: bytes=N- and If-Range', async () => {
    let cuts = 0;
    const server = await serve({ handle: (req, res) => (isMp4(req) && cuts++ === 0 ? cutAfter(res, served(server, MP4), HALF, 'destroy') : false) });
    const out = tempDir();
    const result = await run(server, out);
    expect(result.code, result.stderr).toBe(0);
    expectMedia(server, out, ALL);
    const [first, second, ...more] = mp4Requests(server);
    expect(first?.headers.range).toBeUndefined();
    expect(second?.headers.range).toBe(`bytes=${HALF}-`);
    expect(second?.headers['if-range']).toBe(etagOf(served(server, MP4)));
    expect(more).toHaveLength(0);
    const record = recordOf(result, '16_');
    expect(record?.['status']).toBe('downloaded');
    expect(record?.['bytes']).toBe(served(server, MP4).length);
    expect(record?.['sha256']).toBe(sha256(served(server, MP4)));
    expectNoPartials(out);
  });

  it('the same cut against a server that ignores Range: the 200 restarts the file', async () => {
    let cuts = 0;
    const server = await serve({
      rangeSupport: false,
      handle: (req, res) => (isMp4(req) && cuts++ === 0 ? cutAfter(res, served(server, MP4), HALF, 'destroy') : false),
    });
    const out = tempDir();
    const result = await run(server, out);
    expect(result.code, result.stderr).toBe(0);
    expectMedia(server, out, ALL);
    const requests = mp4Requests(server);
    expect(requests.map((r) => r.headers.range)).toEqual([undefined, `bytes=${HALF}-`]);
    expect(recordOf(result, '16_')?.['bytes']).toBe(served(server, MP4).length);
  });

  it('a body truncated under a correct Content-Length is never renamed into place; the next run gets it', async () => {
    let truncate = true;
    const server = await serve({ handle: (req, res) => (truncate && isMp4(req) ? cutAfter(res, served(server, MP4), HALF, 'end') : false) });
    const out = tempDir();
    const first = await run(server, out, ['--retries', '1']);
    expect(first.code, first.stderr).toBe(1);
    // Six photos saved; the mp4 is nowhere, not even as a partial file.
    expectMedia(server, out, ALL.filter((name) => name !== MP4_FILE));
    expectNoPartials(out);
    expect(mp4Requests(server).map((r) => r.headers.range)).toEqual([undefined, `bytes=${HALF}-`]);
    const failed = recordOf(first, '16_');
    expect(failed?.['status'], first.stderr).toBe('failed');
    expect(String(failed?.['reason'])).toMatch(new RegExp(`^${server.host.replace(/\./g, '\\.')}: transfer cut after ${HALF} bytes .*\\(gave up after 1 retry\\)$`));
    expect(first.stderr).toMatch(/failed: 16_1339647656373661698 \(tweet 1339647664338702336\): /);

    truncate = false;
    server.resetStats();
    const second = await run(server, out);
    expect(second.code, second.stderr).toBe(0);
    expectMedia(server, out, ALL);
    expect(mp4Requests(server).map((r) => r.headers.range)).toEqual([undefined]);
  });

  it('a transfer stalled past --timeout 1 is aborted and resumed', async () => {
    let stalls = 0;
    const server = await serve({ handle: (req, res) => (isMp4(req) && stalls++ === 0 ? cutAfter(res, served(server, MP4), HALF, 'stall') : false) });
    const out = tempDir();
    const result = await run(server, out, ['--timeout', '1']);
    expect(result.code, result.stderr).toBe(0);
    expectMedia(server, out, ALL);
    expect(mp4Requests(server).map((r) => r.headers.range)).toEqual([undefined, `bytes=${HALF}-`]);
  });

  it('503 twice then 200 on the CDN: retried, saved', async () => {
    let failures = 0;
    const server = await serve({
      handle: (req, res) => {
        if (!isMp4(req) || failures++ >= 2) return false;
        res.writeHead(503, { 'content-length': '0' }).end();
        return true;
      },
    });
    const out = tempDir();
    const result = await run(server, out, ['--retries', '2']);
    expect(result.code, result.stderr).toBe(0);
    expectMedia(server, out, ALL);
    expect(mp4Requests(server)).toHaveLength(3);
  });
});

describe('redirects and the host allowlist', () => {
  it('a redirect to a foreign host or a non-http scheme fails that item (exit 1) naming it; allowed hops are followed', async () => {
    const foreign = await serve();
    const server = await serve({
      handle: (req, res) => {
        if (req.kind !== 'cdn' || req.query['name'] !== 'orig') return false;
        const location = req.path.includes('FREAsbkXIAYiaVV')
          ? `${foreign.origin}${req.url}`
          : req.path.includes('FQIaaadXMAQU4E8')
            ? 'ftp://127.0.0.1/FQIaaadXMAQU4E8.jpg'
            : `${req.path}?format=jpg&name=large`;
        res.writeHead(302, { location, 'content-length': '0' }).end();
        return true;
      },
    });
    const out = tempDir();
    const result = await run(server, out);
    expect(result.code, result.stderr).toBe(1);
    expect(foreign.requests).toHaveLength(0);
    const records = ndjson(result.stdout);
    const byTweet = (id: string) => records.find((r) => r['tweet_id'] === id);
    expect(byTweet('1517995317697916928')?.['status'], result.stderr).toBe('failed');
    expect(byTweet('1517995317697916928')?.['reason']).toBe(`redirected: host ${foreign.host} is not on the allowlist (add it with --allow-host ${foreign.host})`);
    expect(byTweet('1513801473074896899')?.['status']).toBe('failed');
    expect(byTweet('1513801473074896899')?.['reason']).toMatch(/^redirected: refused ftp:\/\/ URL on 127\.0\.0\.1: only http and https are fetched$/);
    // The other photos took a same-host hop to `name=large` and were saved from there.
    expect(byTweet('1513260712587669517')?.['source_url']).toBe(`${server.origin}/pbs.twimg.com/media/FQAulhzX0A8OtrC?format=jpg&name=large`);
    expectMedia(
      server,
      out,
      ALL.filter((name) => !name.startsWith('1517995317697916928') && !name.startsWith('1513801473074896899')),
    );
    expect(result.stderr).toContain(`failed: 3_1517995312715079686 (tweet 1517995317697916928): redirected: host ${foreign.host} is not on the allowlist`);
    expectNoPartials(out);
  });
});

describe('isAllowedUrl / refusalOf', () => {
  const allow = ['pbs.twimg.com', 'video.twimg.com', '127.0.0.1:8080'];
  it('allows listed hosts over http(s), any port unless the entry names one', () => {
    expect(isAllowedUrl(new URL('https://pbs.twimg.com/media/x.jpg'), allow)).toBe(true);
    expect(isAllowedUrl(new URL('http://PBS.twimg.com:8443/x'), allow)).toBe(true);
    expect(isAllowedUrl(new URL('http://127.0.0.1:8080/x'), allow)).toBe(true);
    expect(isAllowedUrl(new URL('http://127.0.0.1:8081/x'), allow)).toBe(false);
    expect(isAllowedUrl(new URL('https://pbs.twimg.com.evil.example/x'), allow)).toBe(false);
    expect(isAllowedUrl(new URL('https://evil.example/pbs.twimg.com/x'), allow)).toBe(false);
  });

  it('names the scheme or the host it refuses', () => {
    expect(refusalOf(new URL('https://pbs.twimg.com/x'), allow)).toBeUndefined();
    expect(refusalOf(new URL('file:///etc/passwd'), allow)).toBe('refused file:// URL on no host: only http and https are fetched');
    expect(refusalOf(new URL('ftp://pbs.twimg.com/x'), allow)).toBe('refused ftp:// URL on pbs.twimg.com: only http and https are fetched');
    expect(refusalOf(new URL('https://evil.example:444/x'), allow)).toBe('host evil.example:444 is not on the allowlist (add it with --allow-host evil.example:444)');
  });
});
