import { gzipSync } from 'node:zlib';
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import type { RecordedRequest, ReplayServer } from '../fixtures/replay-server.js';
import { archiveRun, listFiles, ndjson, runCli, serverArgs, tempDir, useReplayServers, type CliResult } from './helpers/cli.js';
import { expectMedia, served } from './helpers/expect.js';
import { readJournal } from './helpers/journal.js';
import { ALL, FILES, MP4, MP4_FILE, USER } from './helpers/seed.js';
import { sha256 } from './helpers/tweets.js';

/**
 * Servers that lie, stall or never stop, end to end through the built CLI: a short 206, error
 * pages and empty bodies served as media, an encoding nobody asked for, an endless body, and a
 * 1 byte/s trickle from the CDN and from the API. Each run must end by itself, keep nothing
 * wrong, and say what came; the next run against a good server saves the right bytes.
 */

const serve = useReplayServers();

const PHOTO_FILE = '1517995317697916928_1.jpg';
const PHOTO = FILES[PHOTO_FILE]?.key ?? '';
const PHOTO_KEY = FILES[PHOTO_FILE]?.media ?? '';
const MP4_KEY = FILES[MP4_FILE]?.media ?? '';
const isPhoto = (req: RecordedRequest) => req.kind === 'cdn' && req.path.startsWith(`/${PHOTO.replace(/\.jpg$/, '')}`);
const isMp4 = (req: RecordedRequest) => req.kind === 'cdn' && req.path === `/${MP4}`;

function recordOf(result: CliResult, mediaKey: string): Record<string, unknown> | undefined {
  return ndjson(result.stdout).find((r) => r['media_key'] === mediaKey);
}

/** Failed, nothing of it on disk, nothing half-written anywhere, and nothing journaled as archived. */
function expectNothingKept(result: CliResult, out: string, mediaKey: string, name: string): void {
  expect(result.code, result.stderr).toBe(1);
  expect(recordOf(result, mediaKey)?.['status']).toBe('failed');
  expect(listFiles(out)).not.toContain(name);
  expect(listFiles(out).filter((f) => f.startsWith('.x-media-dump/tmp/') || f.endsWith('.part'))).toEqual([]);
  expect(readJournal(out).files.has(mediaKey)).toBe(false);
}

/** The next run against a good server: exit 0, every file byte-identical to what it serves. */
async function expectRepairedBy(server: ReplayServer, out: string, stop: () => void): Promise<void> {
  stop();
  const again = await archiveRun(server, out);
  expect(again.code, again.stderr).toBe(0);
  expectMedia(server, out, ALL);
}

/** Headers for the whole file, `upTo` bytes of it, then (a moment later, as on a real network) a reset. */
function cutAfter(res: http.ServerResponse, bytes: Buffer, upTo: number): true {
  res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(bytes.length), etag: '"v1"' });
  res.write(bytes.subarray(0, upTo), () => setTimeout(() => res.socket?.destroy(), 50).unref());
  return true;
}

/** A 206 for `bytes[from…to]` of the whole file, ending there (short when `to` is before the end). */
function partial(res: http.ServerResponse, bytes: Buffer, from: number, to: number): true {
  res.writeHead(206, { 'content-type': 'video/mp4', 'content-range': `bytes ${from}-${to}/${bytes.length}`, 'content-length': String(to - from + 1), etag: '"v1"' });
  res.end(bytes.subarray(from, to + 1));
  return true;
}

/** Headers, then `first`, then one byte a second until the client goes away. */
function trickle(res: http.ServerResponse, headers: Record<string, string>, first: Buffer, rest: Buffer): true {
  res.writeHead(200, headers);
  res.write(first);
  let at = 0;
  const timer = setInterval(() => {
    if (at < rest.length) res.write(rest.subarray(at, ++at));
  }, 1000);
  res.on('close', () => clearInterval(timer));
  return true;
}

describe('a short 206', () => {
  const CUT = 10_000;
  const SHORT_END = 14_999;

  it('is a cut, not a file: the rest is asked for from where it ended, and the file is whole', async () => {
    const server = await serve({
      handle: (req, res) => {
        if (!isMp4(req)) return false;
        const bytes = served(server, MP4);
        if (req.headers.range === undefined) return cutAfter(res, bytes, CUT);
        if (req.headers.range === `bytes=${CUT}-`) return partial(res, bytes, CUT, SHORT_END);
        return false;
      },
    });
    const out = tempDir();
    const result = await archiveRun(server, out, [], { preset: 'retrying' });
    expect(result.code, result.stderr).toBe(0);
    expectMedia(server, out, ALL);
    expect(server.cdnRequests().filter(isMp4).map((r) => r.headers.range)).toEqual([undefined, `bytes=${CUT}-`, `bytes=${SHORT_END + 1}-`]);
    expect(recordOf(result, MP4_KEY)?.['bytes']).toBe(served(server, MP4).length);
    expect(recordOf(result, MP4_KEY)?.['sha256']).toBe(sha256(served(server, MP4)));
  });

  it('always short: the item fails once retries are spent, nothing is kept; the next run saves it', async () => {
    let hostile = true;
    const server = await serve({
      handle: (req, res) => {
        if (!hostile || !isMp4(req)) return false;
        const bytes = served(server, MP4);
        return req.headers.range === undefined ? cutAfter(res, bytes, CUT) : partial(res, bytes, CUT, SHORT_END);
      },
    });
    const out = tempDir();
    const result = await archiveRun(server, out, ['--retries', '1']);
    expectNothingKept(result, out, MP4_KEY, MP4_FILE);
    expect(recordOf(result, MP4_KEY)?.['reason']).toBe(`${server.host}: answered up to byte ${SHORT_END + 1} of ${served(server, MP4).length}; asking for the rest (gave up after 1 retry)`);
    await expectRepairedBy(server, out, () => (hostile = false));
  });
});

describe('bodies that are not the media', () => {
  const cases: { name: string; target: 'photo' | 'mp4'; answer: (res: http.ServerResponse, server: ReplayServer) => void; reason: (host: string) => string }[] = [
    {
      name: 'a 200 text/html error page for a photo',
      target: 'photo',
      answer: (res) => {
        const page = '<!DOCTYPE html><html><body>Rate limit exceeded</body></html>';
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': String(page.length) }).end(page);
      },
      reason: (host) => `${host} sent text/html (an error page?) instead of a photo (JPEG, PNG, GIF or WebP); nothing kept`,
    },
    {
      name: 'a 200 JSON body for a photo',
      target: 'photo',
      answer: (res) => {
        const body = '{"errors":[{"code":88,"message":"Rate limit exceeded"}]}';
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(body.length) }).end(body);
      },
      reason: (host) => `${host} sent application/json instead of a photo (JPEG, PNG, GIF or WebP); nothing kept`,
    },
    {
      name: 'an empty 200 for a video',
      target: 'mp4',
      answer: (res) => void res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '0' }).end(),
      reason: (host) => `${host} sent an empty body instead of an MP4; nothing kept`,
    },
    {
      name: 'a JPEG served for a video',
      target: 'mp4',
      answer: (res, server) => {
        const bytes = served(server, PHOTO);
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(bytes.length) }).end(bytes);
      },
      reason: (host) => `${host} sent a body that is not an MP4 (a JPEG); nothing kept`,
    },
  ];

  for (const c of cases) {
    it(`${c.name}: fails the item naming what came, keeps nothing; the next run saves the right bytes`, async () => {
      let hostile = true;
      const server = await serve({
        handle: (req, res) => {
          if (!hostile || !(c.target === 'photo' ? isPhoto(req) : isMp4(req))) return false;
          c.answer(res, server);
          return true;
        },
      });
      const out = tempDir();
      const result = await archiveRun(server, out);
      const [key, name] = c.target === 'photo' ? [PHOTO_KEY, PHOTO_FILE] : [MP4_KEY, MP4_FILE];
      expectNothingKept(result, out, key, name);
      expect(recordOf(result, key)?.['reason']).toBe(c.reason(server.host));
      expect(result.stderr).toContain(`failed: ${key} (tweet ${name.split('_')[0]}): ${c.reason(server.host)}`);
      // Refused as it came: no other size or variant was tried for it.
      expect(server.cdnRequests().filter(c.target === 'photo' ? isPhoto : isMp4)).toHaveLength(1);
      expectMedia(server, out, ALL.filter((n) => n !== name));
      await expectRepairedBy(server, out, () => (hostile = false));
    });
  }

  it('an encoding nobody asked for (gzip) is refused; every request asked for identity', async () => {
    let hostile = true;
    const server = await serve({
      handle: (req, res) => {
        if (!hostile || !isPhoto(req)) return false;
        const body = gzipSync(served(server, PHOTO));
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-encoding': 'gzip', 'content-length': String(body.length) }).end(body);
        return true;
      },
    });
    const out = tempDir();
    const result = await archiveRun(server, out);
    expectNothingKept(result, out, PHOTO_KEY, PHOTO_FILE);
    expect(recordOf(result, PHOTO_KEY)?.['reason']).toBe(`${server.host} sent a gzip-encoded body, which was not asked for (Accept-Encoding: identity); nothing kept`);
    expect(server.cdnRequests().map((r) => r.headers['accept-encoding'])).toEqual(Array(7).fill('identity'));
    await expectRepairedBy(server, out, () => (hostile = false));
  });
});

describe('bodies that never end', () => {
  it('an endless body without Content-Length is cut at --max-file-size, its temp file removed', async () => {
    let sent = 0;
    const server = await serve({
      handle: (req, res) => {
        if (!isPhoto(req)) return false;
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        const block = Buffer.alloc(64 * 1024, 0x5a);
        served(server, PHOTO).copy(block, 0, 0, 16);
        const pump = () => {
          while (!res.destroyed && res.write(block)) sent += block.length;
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return true;
      },
    });
    const out = tempDir();
    const result = await archiveRun(server, out, ['--max-file-size', '1M']);
    expectNothingKept(result, out, PHOTO_KEY, PHOTO_FILE);
    expect(recordOf(result, PHOTO_KEY)?.['reason']).toBe(`${server.host} sent more than --max-file-size 1048576 bytes; refused`);
    // It stopped reading near the cap, not after gigabytes (the socket buffers hold a few MB at most).
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    expectMedia(server, out, ALL.filter((n) => n !== PHOTO_FILE));
  });

  it('a body announced larger than --max-file-size (default 4 GiB) is refused before it is read', async () => {
    const server = await serve({
      handle: (req, res) => {
        if (!isMp4(req)) return false;
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(5 * 1024 ** 3) });
        res.write(served(server, MP4).subarray(0, 1024));
        return true;
      },
    });
    const out = tempDir();
    const result = await archiveRun(server, out);
    expectNothingKept(result, out, MP4_KEY, MP4_FILE);
    expect(recordOf(result, MP4_KEY)?.['reason']).toBe(`${server.host} announced 5368709120 bytes, more than --max-file-size 4294967296; refused`);
  });
});

describe('a 1 byte/s trickle', () => {
  /** The photo's headers and first 16 bytes at once (a real JPEG start), the rest a byte a second. */
  const tricklePhoto = (server: ReplayServer) => (req: RecordedRequest, res: http.ServerResponse) => {
    if (!isPhoto(req)) return false;
    const bytes = served(server, PHOTO);
    return trickle(res, { 'content-type': 'image/jpeg', 'content-length': String(bytes.length) }, bytes.subarray(0, 16), bytes.subarray(16));
  };
  /** Page 1's headers at once, its JSON a byte a second. */
  const tricklePage = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.path !== '/v1/x/user/medias') return false;
    const body = Buffer.from('{"results":[],"continuation_token":""}');
    return trickle(res, { 'content-type': 'application/json', 'content-length': String(body.length) }, Buffer.alloc(0), body);
  };

  it('from the CDN: a stall below --min-rate over --timeout, retried once, then the item fails', async () => {
    const server: ReplayServer = await serve({ handle: (req, res) => tricklePhoto(server)(req, res) });
    const out = tempDir();
    const result = await archiveRun(server, out, ['--timeout', '2', '--min-rate', '1024', '--retries', '5']);
    expectNothingKept(result, out, PHOTO_KEY, PHOTO_FILE);
    expect(recordOf(result, PHOTO_KEY)?.['reason']).toMatch(
      new RegExp(`^${server.host.replace(/\./g, '\\.')}: the body came slower than --min-rate 1024 B/s over 2s \\(\\d+ bytes received\\) \\(gave up after 1 retry\\)$`),
    );
    // One retry (not --retries 5), and no smaller size tried: the host is what is slow.
    expect(server.cdnRequests().filter(isPhoto)).toHaveLength(2);
    expectMedia(server, out, ALL.filter((n) => n !== PHOTO_FILE));
  });

  it('from the API: the run ends with exit 4 after one retry, naming the page', async () => {
    const server = await serve({ handle: tricklePage });
    const out = tempDir();
    const result = await archiveRun(server, out, ['--timeout', '2', '--min-rate', '1024', '--retries', '5']);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(
      /\nx-media-dump: the API kept failing for \/user\/medias \(page 1\): the API's response came slower than --min-rate 1024 B\/s over 2s \(\d+ bytes received\), 1 retry spent; the next run resumes\n$/,
    );
    expect(server.apiRequests()).toHaveLength(2);
    expect(listFiles(out)).toEqual(['.x-media-dump/journal.jsonl']);
  });

  it('with the defaults (--timeout 30, --min-rate 1024, --retries 5) both runs end by themselves', async () => {
    const cdn: ReplayServer = await serve({ handle: (req, res) => tricklePhoto(cdn)(req, res) });
    const api = await serve({ handle: tricklePage });
    const [cdnOut, apiOut] = [tempDir(), tempDir()];
    const [fromCdn, fromApi] = await Promise.all([
      runCli(['--user', USER, '--out', cdnOut, '--json', ...serverArgs(cdn)]),
      runCli(['--user', USER, '--out', apiOut, ...serverArgs(api)]),
    ]);
    expectNothingKept(fromCdn, cdnOut, PHOTO_KEY, PHOTO_FILE);
    expect(recordOf(fromCdn, PHOTO_KEY)?.['reason']).toMatch(/came slower than --min-rate 1024 B\/s over 30s \(\d+ bytes received\) \(gave up after 1 retry\)$/);
    expect(cdn.cdnRequests().filter(isPhoto)).toHaveLength(2);
    expect(fromApi.code, fromApi.stderr).toBe(4);
    expect(fromApi.stderr).toMatch(/the API's response came slower than --min-rate 1024 B\/s over 30s \(\d+ bytes received\), 1 retry spent; the next run resumes\n$/);
    expect(api.apiRequests()).toHaveLength(2);
  }, 150_000);
});
