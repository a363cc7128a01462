import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from './helpers/journal.js';
import { answer, deadPid, deferred, stallMp4Halfway, stallPage } from './helpers/faults.js';
import { cdnKeys, expectOnly, expectSaved, pagesAsked, STATE_FILES, stateFiles, statusOf } from './helpers/expect.js';
import { archiveRun, listFiles, ndjson, runCli, tempDir, useReplayServers } from './helpers/cli.js';
import { ALL, FILES, keysOf, mediaWith, onPages, seedPages, seedServerPages, T1, T2, tweet, USER } from './helpers/seed.js';
import { jpegOf } from './helpers/tweets.js';

/**
 * The nightly cron contract (issue 6), end to end through the built CLI against the replay
 * server: what each rerun asks the API and the CDN for, counted at the server.
 */

const serve = useReplayServers();

beforeAll(() => {
  // The CLI under test is the built one: fail clearly if it was not built.
  expect(fs.existsSync(path.resolve('dist/cli.js'))).toBe(true);
});

describe('incremental runs', () => {
  it('a rerun with nothing new makes exactly 1 API request and 0 downloads; files carry the tweet time as mtime', async () => {
    const s = await serve();
    const out = tempDir();
    const first = await archiveRun(s, out);
    expect(first.code, first.stderr).toBe(0);
    expect(s.apiRequests()).toHaveLength(3);
    expect(first.stderr).toContain('3 API requests, $0.03');
    expect(first.stderr).toContain('history: complete');
    expectSaved(s, out, ALL);
    expectOnly(out, ALL);
    for (const name of ALL) expect(fs.statSync(path.join(out, name)).mtime.toISOString(), name).toBe(new Date(FILES[name]?.created ?? '').toISOString());

    s.resetStats();
    const second = await archiveRun(s, out);
    expect(second.code, second.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1]);
    expect(s.cdnRequests()).toHaveLength(0);
    expect(second.stderr).toContain('7 files on disk: 0 new, 7 already archived');
    expect(second.stderr).toContain('1 API request, $0.01');
    expect(second.stderr).toContain('history: complete');
    expect(Object.values(statusOf(second.stdout))).toEqual(['exists', 'exists']);
    expectOnly(out, ALL);
  });

  it('new tweets at the head: only their media are fetched, with one API request', async () => {
    const pages = seedServerPages();
    const s = await serve({ pages, media: mediaWith({ 'pbs.twimg.com/media/NEWaaaaaaaaaaa1.jpg': jpegOf('new photo one'), 'pbs.twimg.com/media/NEWaaaaaaaaaaa2.jpg': jpegOf('new photo two') }) });
    const out = tempDir();
    expect((await archiveRun(s, out)).code).toBe(0);

    const [p1] = seedPages();
    const fresh = [tweet('1600000000000000002', '2023-01-02T00:00:00.000Z', 'NEWaaaaaaaaaaa2'), tweet('1600000000000000001', '2023-01-01T00:00:00.000Z', 'NEWaaaaaaaaaaa1')];
    pages[USER] = [{ results: [...fresh, ...(p1?.results ?? [])], continuation_token: T1 }, ...(seedServerPages()[USER] ?? []).slice(1)];
    s.resetStats();
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1]);
    expect(cdnKeys(s)).toEqual(['pbs.twimg.com/media/NEWaaaaaaaaaaa1.jpg', 'pbs.twimg.com/media/NEWaaaaaaaaaaa2.jpg']);
    expect(fs.readFileSync(path.join(out, '1600000000000000002_1.jpg'))).toEqual(jpegOf('new photo two'));
    expect(fs.statSync(path.join(out, '1600000000000000001_1.jpg')).mtime.toISOString()).toBe('2023-01-01T00:00:00.000Z');
    expect(statusOf(run.stdout)).toEqual({ '3_1599999999999999997': 'downloaded', '3_1599999999999999996': 'downloaded', '3_1517995312715079686': 'exists', '3_1513801465831305220': 'exists' });
  });

  it('a pinned old tweet at the top of page 1 does not stop the head scan early', async () => {
    const pages = seedServerPages();
    const names = ['NEWbbbbbbbbbbb1', 'NEWbbbbbbbbbbb2', 'NEWbbbbbbbbbbb3'];
    const s = await serve({ pages, media: mediaWith(Object.fromEntries(names.map((n) => [`pbs.twimg.com/media/${n}.jpg`, jpegOf(n)]))) });
    const out = tempDir();
    expect((await archiveRun(s, out)).code).toBe(0);

    // Three new tweets over two pages, with the oldest tweet (page 3's) pinned above them: its
    // id is far below the head, and trusting it would end the scan on page 1, missing N1.
    const [p1, p2, p3] = seedPages();
    const pinned = p3?.results[1] ?? {};
    pages[USER] = [
      { results: [pinned, tweet('1600000000000000003', '2023-01-03T00:00:00.000Z', 'NEWbbbbbbbbbbb3'), tweet('1600000000000000002', '2023-01-02T00:00:00.000Z', 'NEWbbbbbbbbbbb2')], continuation_token: 'NEW-T1' },
      { results: [tweet('1600000000000000001', '2023-01-01T00:00:00.000Z', 'NEWbbbbbbbbbbb1'), ...(p1?.results ?? [])], continuation_token: T1 },
      { results: p2?.results ?? [], continuation_token: T2 },
      { results: p3?.results ?? [], continuation_token: '' },
    ];
    s.resetStats();
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1, 'NEW-T1']);
    expect(cdnKeys(s)).toEqual(names.map((n) => `pbs.twimg.com/media/${n}.jpg`));
    expect(run.stderr).toContain('2 API requests, $0.02');

    // And the pinned tweet does not make the next run think it has new work either.
    s.resetStats();
    const again = await archiveRun(s, out);
    expect(again.code, again.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1]);
    expect(s.cdnRequests()).toHaveLength(0);
  });

  it('--since stops paging past older tweets and later --since runs do not pay to look at older gaps', async () => {
    const s = await serve();
    const out = tempDir();
    const first = await archiveRun(s, out, ['--since', '2022-04-01']);
    expect(first.code, first.stderr).toBe(0);
    // Page 2 holds a tweet from February: paging stops there.
    expect(pagesAsked(s)).toEqual([1, 2]);
    expect(cdnKeys(s)).toEqual(keysOf(['1517995317697916928_1.jpg', '1513801473074896899_1.jpg', '1513260712587669517_1.jpg']));
    expect(first.stderr).toContain('2 API requests, $0.02');
    expect(first.stderr).toContain('history: 2 pages fetched, more remain');
    expect(statusOf(first.stdout)['3_1497526859269038083']).toBe('skipped');

    s.resetStats();
    const second = await archiveRun(s, out, ['--since', '2022-04-01']);
    expect(second.code, second.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1]);
    expect(s.cdnRequests()).toHaveLength(0);

    // Without --since the backfill resumes at page 3; page 2's February photo was journaled
    // when page 2 was paid for, so it is fetched without asking for page 2 again.
    s.resetStats();
    const third = await archiveRun(s, out);
    expect(third.code, third.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1, 3]);
    expect(cdnKeys(s)).toEqual(keysOf(['1497526869406670848_1.jpg', ...onPages(3)]));
    expect(third.stderr).toContain('history: complete');
    expectSaved(s, out, ALL);
    expectOnly(out, ALL);
  });

  it('an empty page 1 above a known head does not end history: the backfill token survives', async () => {
    const pages = seedServerPages();
    const real = pages[USER] ?? [];
    const s = await serve({ pages });
    const out = tempDir();
    expect((await archiveRun(s, out, ['--max-pages', '1'])).code).toBe(0);

    pages[USER] = [{ results: [], continuation_token: '' }];
    s.resetStats();
    const blank = await archiveRun(s, out, ['--max-pages', '1']);
    expect(blank.code, blank.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1]);
    expect(blank.stderr).toContain('history: 2 pages fetched, more remain');

    pages[USER] = real;
    s.resetStats();
    const resumed = await archiveRun(s, out);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1, 2, 3]);
    expect(resumed.stderr).toContain('history: complete');
    expectSaved(s, out, ALL);
  });

  it('--full pages past the head to the end but fetches nothing already archived', async () => {
    const s = await serve();
    const out = tempDir();
    expect((await archiveRun(s, out)).code).toBe(0);
    s.resetStats();
    const run = await archiveRun(s, out, ['--full']);
    expect(run.code, run.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1, 2, 3]);
    expect(s.cdnRequests()).toHaveLength(0);
    expect(Object.values(statusOf(run.stdout))).toEqual(Array(7).fill('exists'));
    expect(run.stderr).toContain('history: complete');
  });

  it("uses the envelope's meta.costCents when it is given, $0.01 a request otherwise", async () => {
    const pages = seedServerPages();
    const envelope = pages[USER]?.[1] as { meta: { costCents: number } };
    envelope.meta.costCents = 5;
    const s = await serve({ pages });
    const out = tempDir();
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('3 API requests, $0.07');
  });
});

describe('never paying twice', () => {
  it('--max-pages then a rerun: no answered token is asked again, pending media are fetched without the API', async () => {
    let failPage2Media = true;
    const page2 = new Set(keysOf(onPages(2)).map((k) => k.replace(/\.jpg$/, '')));
    const s = await serve({
      handle: (req, res) => {
        if (!failPage2Media || req.kind !== 'cdn' || !page2.has(req.path.slice(1).replace(/\.jpg$/, ''))) return false;
        res.writeHead(503, { 'Content-Length': '0' }).end();
        return true;
      },
    });
    const out = tempDir();
    const first = await archiveRun(s, out, ['--max-pages', '2']);
    expect(first.code, first.stderr).toBe(1);
    expect(pagesAsked(s)).toEqual([1, 2]);
    expect(first.stderr).toContain('2 API requests, $0.02');
    expect(first.stderr).toContain('history: 2 pages fetched, more remain');
    expectSaved(s, out, onPages(1));

    failPage2Media = false;
    s.resetStats();
    const second = await archiveRun(s, out, ['--max-pages', '2']);
    expect(second.code, second.stderr).toBe(0);
    // The head request, then straight on from page 2's token: T1 was answered, never again.
    expect(pagesAsked(s)).toEqual([1, 3]);
    expect(cdnKeys(s)).toEqual(keysOf(onPages(2, 3)));
    expect(second.stderr).toContain('history: complete');
    expectSaved(s, out, ALL);
    expectOnly(out, ALL);
  });

  it('a saved token the API no longer accepts: the gap is paged again from page 1, nothing is lost', async () => {
    let expired = false;
    const s = await serve({
      handle: (req, res) => {
        if (!expired || req.token !== T2) return false;
        // The first time only: the API has forgotten the token page 2 handed out yesterday.
        expired = false;
        return answer(res, 400, { success: false, error: { code: 'BAD_TOKEN', message: 'continuation token expired' } });
      },
    });
    const out = tempDir();
    const first = await archiveRun(s, out, ['--max-pages', '2']);
    expect(first.code, first.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1, 2]);

    expired = true;
    s.resetStats();
    const second = await archiveRun(s, out);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('x-media-dump: the API no longer accepts a continuation token saved by an earlier run (the API answered HTTP 400 to /user/medias/continuation (page 2): continuation token expired); paging again from page 1 to fill that gap');
    // Head scan, the refused token, then page 1 → 2 → 3 again; only page 3's media were new.
    expect(pagesAsked(s)).toEqual([1, 3, 1, 2, 3]);
    expect(cdnKeys(s)).toEqual(keysOf(onPages(3)));
    expect(second.stderr).toContain('history: complete');
    expectSaved(s, out, ALL);
    expectOnly(out, ALL);
  });

  it('402 INSUFFICIENT_CREDITS on page 2: exit 3, page-1 media saved; the rerun resumes from the saved token', async () => {
    let broke = true;
    const s = await serve({
      handle: (req, res) => {
        if (!broke || req.token !== T1) return false;
        return answer(res, 402, { success: false, error: { code: 'INSUFFICIENT_CREDITS', message: 'Insufficient credits' } });
      },
    });
    const out = tempDir();
    const first = await archiveRun(s, out);
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toContain('out of credits');
    expect(first.stderr).toContain('2 API requests (1 refused, not billed), $0.01');
    expect(pagesAsked(s)).toEqual([1, 2]);
    expect(cdnKeys(s)).toEqual(keysOf(onPages(1)));
    expectSaved(s, out, onPages(1));
    expectOnly(out, onPages(1));

    broke = false;
    s.resetStats();
    const second = await archiveRun(s, out);
    expect(second.code, second.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1, 2, 3]);
    expect(cdnKeys(s)).toEqual(keysOf(onPages(2, 3)));
    expect(second.stderr).toContain('3 API requests, $0.03');
    expectSaved(s, out, ALL);
    expectOnly(out, ALL);
  });

  it('SIGINT while a page is in flight: exit 130, state consistent, the rerun completes', async () => {
    const stall = stallPage(T1);
    const s = await serve({ handle: stall.handle });
    const out = tempDir();
    let child: ChildProcess | undefined;
    const running = archiveRun(s, out, [], { onSpawn: (c) => (child = c) });
    await stall.reached;
    child?.kill('SIGINT');
    const first = await running;
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toContain('interrupted');
    expect(stateFiles(out)).toEqual(STATE_FILES);
    expect(readJournal(out).scan?.gaps).toEqual([{ token: T1, notAfter: '2022-04-12T08:49:30.000Z' }]);

    stall.release();
    s.resetStats();
    const second = await archiveRun(s, out);
    expect(second.code, second.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1, 2, 3]);
    expectSaved(s, out, ALL);
    expectOnly(out, ALL);
  });

  it('SIGTERM mid-download: exit 130, the temp file is discarded, the rerun fetches only what is missing', async () => {
    const stall = stallMp4Halfway();
    const s = await serve({ handle: stall.handle });
    const out = tempDir();
    let child: ChildProcess | undefined;
    const running = archiveRun(s, out, ['--concurrency', '1'], { onSpawn: (c) => (child = c) });
    await stall.reached;
    child?.kill('SIGTERM');
    const first = await running;
    expect(first.code, first.stderr).toBe(130);
    const left = listFiles(out);
    expect(left.filter((f) => f.startsWith('.x-media-dump/'))).toEqual(STATE_FILES);
    expect(left).not.toContain('1339647664338702336_1.mp4');
    expect(readJournal(out).files.size).toBe(left.length - STATE_FILES.length);

    stall.release();
    s.resetStats();
    const second = await archiveRun(s, out);
    expect(second.code, second.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1]);
    expect(cdnKeys(s)).toEqual(keysOf(ALL.filter((n) => !left.includes(n))));
    expectSaved(s, out, ALL);
    expectOnly(out, ALL);
  });
});

describe('quality', () => {
  it('a photo saved from a fallback size after the original failed transiently is upgraded by a later run', async () => {
    let origFails = true;
    const photo = FILES['1401511472413487106_1.jpg']?.key.replace(/\.jpg$/, '') ?? '';
    const s = await serve({
      handle: (req, res) => {
        if (!origFails || req.path !== `/${photo}` || req.query['name'] !== 'orig') return false;
        res.writeHead(503, { 'Content-Length': '0' }).end();
        return true;
      },
    });
    const out = tempDir();
    const first = await archiveRun(s, out);
    expect(first.code, first.stderr).toBe(0);
    const saved = ndjson(first.stdout).find((r) => r['path'] === '1401511472413487106_1.jpg');
    expect(saved?.['quality']).toBe('4096x4096');

    // A page-3 photo: no head scan sees it again, the archive itself remembers to retry.
    origFails = false;
    s.resetStats();
    const second = await archiveRun(s, out);
    expect(second.code, second.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1]);
    expect(s.cdnRequests().map((r) => r.url)).toEqual([`/${photo}?format=jpg&name=orig`]);
    expect(ndjson(second.stdout).find((r) => r['path'] === '1401511472413487106_1.jpg')?.['quality']).toBe('orig');
    expectSaved(s, out, ALL);

    s.resetStats();
    const third = await archiveRun(s, out);
    expect(third.code, third.stderr).toBe(0);
    expect(s.cdnRequests()).toHaveLength(0);
  });
});

describe('lock', () => {
  it('a second run on the same --out exits 2 at once naming the first run’s pid', async () => {
    const arrived = deferred();
    const release = deferred();
    const s = await serve({
      handle: async (req) => {
        if (req.kind !== 'api' || req.token !== undefined) return false;
        arrived.resolve();
        await release.promise;
        return false;
      },
    });
    const out = tempDir();
    let child: ChildProcess | undefined;
    const running = archiveRun(s, out, [], { onSpawn: (c) => (child = c) });
    await arrived.promise;
    const started = Date.now();
    const second = await archiveRun(s, out);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`pid ${child?.pid ?? 'unknown'}`);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(s.apiRequests()).toHaveLength(1);
    release.resolve();
    const first = await running;
    expect(first.code, first.stderr).toBe(0);
    expectOnly(out, ALL);
  });

  it('a stale lock whose pid is dead is taken over', async () => {
    const s = await serve();
    const out = tempDir();
    const dead = await deadPid();
    fs.mkdirSync(path.join(out, '.x-media-dump'), { recursive: true });
    fs.writeFileSync(path.join(out, '.x-media-dump', 'lock'), `${dead}\n`);
    // What a run killed halfway through taking the lock leaves behind.
    fs.writeFileSync(path.join(out, '.x-media-dump', `lock.${dead}`), `${dead}\n`);
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    expectSaved(s, out, ALL);
    expectOnly(out, ALL);
  });

  it('an archive written by a newer version: exit 2 before any request, and the lock is not left behind', async () => {
    const s = await serve();
    const out = tempDir();
    fs.mkdirSync(path.join(out, '.x-media-dump'));
    fs.writeFileSync(path.join(out, '.x-media-dump', 'journal.jsonl'), '{"k":"format","v":3}\n');
    const run = await archiveRun(s, out);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('newer x-media-dump');
    expect(s.requests).toHaveLength(0);
    expect(listFiles(out)).toEqual(['.x-media-dump/journal.jsonl']);
  });
});

describe('verify before skipping', () => {
  it('a deleted and a truncated file are fetched again by the next run; intact ones are "exists"', async () => {
    const s = await serve();
    const out = tempDir();
    expect((await archiveRun(s, out)).code).toBe(0);
    fs.rmSync(path.join(out, '1517995317697916928_1.jpg'));
    fs.truncateSync(path.join(out, '1401511472413487106_1.jpg'), 100);

    s.resetStats();
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1]);
    expect(cdnKeys(s)).toEqual(keysOf(['1517995317697916928_1.jpg', '1401511472413487106_1.jpg']));
    expect(statusOf(run.stdout)).toEqual({ '3_1517995312715079686': 'downloaded', '3_1401511456676405250': 'downloaded', '3_1513801465831305220': 'exists' });
    expectSaved(s, out, ALL);
    expect(fs.statSync(path.join(out, '1401511472413487106_1.jpg')).mtime.toISOString()).toBe('2021-06-06T12:09:08.000Z');
  });

  it('verify reports missing and corrupt files (exit 1); --repair fixes them with no API request; neither needs a key', async () => {
    const s = await serve();
    const out = tempDir();
    expect((await archiveRun(s, out)).code).toBe(0);
    fs.rmSync(path.join(out, '1513260712587669517_1.jpg'));
    const corrupt = path.join(out, '1339647664338702336_1.mp4');
    const bytes = fs.readFileSync(corrupt);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff; // same size, other content: only the hash tells
    fs.writeFileSync(corrupt, bytes);
    const noKey = { env: { AGNTDATA_API_KEY: undefined } };

    s.resetStats();
    const check = await runCli(['verify', '--out', out], noKey);
    expect(check.code, check.stderr).toBe(1);
    expect(check.stderr).toContain('missing: 1513260712587669517_1.jpg');
    expect(check.stderr).toContain('corrupt: 1339647664338702336_1.mp4');
    expect(check.stderr).toContain('verified 7 files: 5 intact, 0 repaired, 2 missing or corrupt');
    expect(s.requests).toHaveLength(0);

    const repair = await runCli(['verify', '--out', out, '--repair', '--allow-host', s.host], noKey);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stderr).toContain('verified 7 files: 5 intact, 2 repaired, 0 missing or corrupt');
    expect(s.apiRequests()).toHaveLength(0);
    expect(cdnKeys(s)).toEqual(keysOf(['1513260712587669517_1.jpg', '1339647664338702336_1.mp4']));
    expectSaved(s, out, ALL);
    expectOnly(out, ALL);
    expect(fs.statSync(corrupt).mtime.toISOString()).toBe('2020-12-17T19:04:27.000Z');

    const exported = await runCli(['export', '--out', out], noKey);
    expect(exported.code, exported.stderr).toBe(0);
    const records = ndjson(exported.stdout);
    expect(records.map((r) => r['status'])).toEqual(Array(7).fill('exists'));
    expect(records.map((r) => r['path']).sort()).toEqual(ALL);

    const again = await runCli(['verify', '--out', out], noKey);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('verified 7 files: 7 intact, 0 repaired, 0 missing or corrupt');
  });

  it('verify on a folder that is not an archive exits 2 and leaves the folder alone', async () => {
    const out = tempDir();
    const run = await runCli(['verify', '--out', out], { env: { AGNTDATA_API_KEY: undefined } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is not an x-media-dump archive');
    expect(fs.readdirSync(out)).toEqual([]);
  });
});
