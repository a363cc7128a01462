import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ReplayServer } from '../fixtures/replay-server.js';
import { describe, expect, it } from 'vitest';
import { archiveRun, mediaFiles, ndjson, tempDir, useReplayServers } from './helpers/cli.js';
import { expectMedia, expectSaved, pagesAsked } from './helpers/expect.js';
import { answer, deferred } from './helpers/faults.js';
import { readJournal } from './helpers/journal.js';
import { ALL, pageOf, seedPages, T1, T2, USER } from './helpers/seed.js';
import { paginate, photoTweet, tweetIds } from './helpers/tweets.js';

/**
 * Issue 14, end to end: `history: complete` is concluded, never assumed; odd pages from the API
 * cannot end the history early, make a run pay without bound, or hide a missing user.
 */

const serve = useReplayServers();

describe('the end of history', () => {
  it('an empty page in the middle is followed: the first run saves everything behind it', async () => {
    const [p1, p2, p3] = seedPages();
    const pages = {
      [USER]: [
        { results: p1?.results, continuation_token: T1 },
        { results: [], continuation_token: 'EMPTY-1' },
        { results: p2?.results, continuation_token: T2 },
        { results: p3?.results, continuation_token: '' },
      ],
    };
    const s = await serve({ pages });
    const out = tempDir();
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1, 2, 'EMPTY-1', 3]);
    expectMedia(s, out, ALL);
    expect(run.stderr).toContain('history: complete · stopped: end of history');
  });

  it('empty pages that keep carrying tokens: two more are followed, then history ends', async () => {
    const [p1] = seedPages();
    const empties = Array.from({ length: 6 }, (_, i) => ({ results: [], continuation_token: `E${i + 2}` }));
    const s = await serve({ pages: { [USER]: [{ results: p1?.results, continuation_token: 'E1' }, ...empties] } });
    const out = tempDir();
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1, 'E1', 'E2', 'E3']);
    expect(run.stderr).toContain('4 API requests, $0.04');
    expect(run.stderr).toContain('history: complete');
  });

  it('pages that return the same tweets under fresh tokens: the run stops by itself with a warning', async () => {
    const [p1, p2] = seedPages();
    let n = 0;
    const s = await serve({
      handle: (req, res) => {
        if (pageOf(req) === 0 || pageOf(req) === 1) return false;
        n += 1;
        return answer(res, 200, s.rewriteUrls(JSON.stringify({ results: p2?.results, continuation_token: `FRESH-${n}` })));
      },
      pages: { [USER]: [{ results: p1?.results, continuation_token: T1 }] },
    });
    const out = tempDir();
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    // Page 1, page 2 (new tweets), then 3 pages that bring nothing new.
    expect(s.apiRequests()).toHaveLength(5);
    expect(run.stderr).toContain('3 pages in a row brought no tweet new to this run (the API may be looping); stopped paging, the rest is kept for a later run');
    expect(run.stderr).toMatch(/history: 5 pages fetched, more remain: the backfill.* · stopped: pages brought nothing new/);
    expectSaved(s, out, ALL.filter((name) => name.startsWith('1517') || name.startsWith('1513') || name.startsWith('1497')));
    expect(readJournal(out).scan?.gaps).toEqual([expect.objectContaining({ token: 'FRESH-4' })]);
  });
});

describe('an API that says it failed', () => {
  it('200 with success:false and no results is an API error (exit 4), never "history: complete"', async () => {
    const s = await serve({ handle: (req, res) => (pageOf(req) === 2 ? answer(res, 200, { success: false, error: { code: 'INTERNAL', message: 'upstream timeout' }, results: [] }) : false) });
    const out = tempDir();
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toContain('x-media-dump: the API reported a failure (INTERNAL) to /user/medias/continuation (page 2): upstream timeout\n');
    expect(run.stderr).not.toContain('history: complete');
    expect(readJournal(out).scan?.complete).toBe(false);
  });

  it('200 with success:false INSUFFICIENT_CREDITS is exit 3, like a 402', async () => {
    const s = await serve({ handle: (req, res) => (pageOf(req) === 3 ? answer(res, 200, { success: false, error: { code: 'INSUFFICIENT_CREDITS' } }) : false) });
    const out = tempDir();
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('out of credits');
    expect(pagesAsked(s)).toEqual([1, 2, 3]);
  });
});

describe('a user that is not there', () => {
  it('a numeric id that does not exist: one /user/details request, exit 2 "no such user"', async () => {
    const s = await serve();
    const out = tempDir();
    const run = await archiveRun(s, out, [], { user: '96479163' });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toBe('x-media-dump: no such user: 96479163 (agntdata knows no X user with this id); check --user\n');
    expect(s.apiRequests().map((r) => `${r.path}${r.query['user_id'] ? `?user_id=${r.query['user_id']}` : ''}`)).toEqual(['/v1/x/user/medias', '/v1/x/user/details?user_id=96479163']);
    expect(mediaFiles(out)).toEqual([]);
  });

  it('NOT_FOUND from the API is confirmed the same way', async () => {
    const s = await serve({ handle: (req, res) => (pageOf(req) === 1 ? answer(res, 404, { success: false, error: { code: 'NOT_FOUND', message: 'User not found' } }) : false) });
    const run = await archiveRun(s, tempDir(), [], { user: '0' });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('no such user: 0');
    expect(s.apiRequests().map((r) => r.path)).toEqual(['/v1/x/user/medias', '/v1/x/user/details']);
  });

  it('a user who exists but has no media: a warning, exit 0, and the check is not paid for again', async () => {
    const s = await serve({ users: { quiet_one: { user_id: '42', username: 'quiet_one' } } });
    const out = tempDir();
    const first = await archiveRun(s, out, [], { user: '42' });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('x-media-dump: @quiet_one has no media\n');
    expect(s.apiRequests().map((r) => r.path)).toEqual(['/v1/x/user/medias', '/v1/x/user/details']);
    s.resetStats();
    const second = await archiveRun(s, out, [], { user: '42' });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('@quiet_one has no media');
    expect(s.apiRequests().map((r) => r.path)).toEqual(['/v1/x/user/medias']);
  });
});

describe('an interrupted run', () => {
  it('SIGTERM mid-run: exit 130, and the summary says what is still waiting, never "complete"', async () => {
    const tweets = tweetIds(30).map((id) => photoTweet(id));
    const { pages, media } = paginate(tweets, 30);
    const started = deferred();
    const s = await serve({ pages: { [USER]: pages }, media, cdnLatencyMs: 200, handle: (req) => (req.kind === 'cdn' && started.resolve(), false) });
    const out = tempDir();
    let child: ChildProcess | undefined;
    const running = archiveRun(s, out, ['--concurrency', '2', '--json'], { onSpawn: (c) => (child = c) });
    await started.promise;
    child?.kill('SIGTERM');
    const run = await running;
    expect(run.code, run.stderr).toBe(130);
    const saved = ndjson(run.stdout).filter((r) => r['status'] === 'downloaded').length;
    expect(saved).toBeLessThan(30);
    expect(run.stderr).toContain('history: all pages fetched; interrupted before every file was saved · stopped: interrupted');
    expect(run.stderr).toContain('stopped: interrupted');
    expect(run.stderr).toContain(`waiting: ${30 - saved} media found but not on disk yet`);
    expect(run.stderr).not.toContain('history: complete');
  });
});

describe('a damaged journal', () => {
  /** A dry run journals the three pages (no file yet); then page 2's line is overwritten with garbage. */
  async function damagedArchive(s: ReplayServer) {
    const out = tempDir();
    expect((await archiveRun(s, out, ['--dry-run'])).code).toBe(0);
    const journal = path.join(out, '.x-media-dump', 'journal.jsonl');
    const lines = fs.readFileSync(journal, 'utf8').split('\n');
    const pageTwo = lines.findIndex((line) => line.includes('"seq":2'));
    lines[pageTwo] = `{"k":"tx","entries":[${'#'.repeat(40)}`;
    fs.writeFileSync(journal, lines.join('\n'));
    s.resetStats();
    return out;
  }

  it("page 2's media come back from the stored tweets: one run saves every file, at no extra page", async () => {
    const s = await serve();
    const out = await damagedArchive(s);
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/the journal had 1 unreadable line \(damage, not a crash's cut-off end\); a copy of it as it was is kept at \S+journal\.damaged-[\dT-]+Z\.jsonl; files already on disk are kept; 1 page whose records were lost came back from the stored tweets, at no cost/);
    expect(run.stderr).not.toContain('nothing complete was lost');
    expectMedia(s, out, ALL);
    expect(pagesAsked(s)).toEqual([1]);
    expect(fs.readdirSync(path.join(out, '.x-media-dump')).filter((n) => n.startsWith('journal.damaged-'))).toHaveLength(1);
  });

  it('without the stored tweets, page 2 is paged again from page 1 down to page 3, and said so', async () => {
    const s = await serve();
    const out = await damagedArchive(s);
    fs.rmSync(path.join(out, '.x-media-dump', 'tweets.jsonl.gz'));
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`1 page of user ${USER} could not be recovered and are paged again from page 1 on this run: paying again for what was lost is the honest cost`);
    expectMedia(s, out, ALL);
    // The head check, then the re-page: page 1 again, page 2, and page 3 where it meets what is known.
    expect(pagesAsked(s)).toEqual([1, 1, 2, 3]);
    expect(run.stderr).toContain('history: complete');
  });
});
