import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveRun, listFiles, mediaFiles, ndjson, runCli, serverArgs, tempDir, useReplayServers } from './helpers/cli.js';
import { answer } from './helpers/faults.js';
import { ALL, seedServerPages, USER } from './helpers/seed.js';
import { paginate, photoTweet, tweetIds } from './helpers/tweets.js';

/**
 * What the tool prints, journals and names files after, when the API's text is hostile:
 * passwords in media URLs, terminal escape sequences and bidi overrides in names and messages,
 * a malformed key; and a --quiet run at high concurrency, whose stderr must stay empty.
 */

const serve = useReplayServers();

/** The seed's pages as JSON text with `edit` applied, parsed back. */
function seedPagesEdited(edit: (json: string) => string): Record<string, unknown[]> {
  const pages = seedServerPages();
  return { [USER]: (pages[USER] ?? []).map((page) => JSON.parse(edit(JSON.stringify(page))) as unknown) };
}

/** Every byte the run left anywhere: stdout, stderr, and each file under --out. */
function everything(out: string, result: { stdout: string; stderr: string }): string {
  return [result.stdout, result.stderr, ...listFiles(out).map((f) => fs.readFileSync(path.join(out, f), 'latin1'))].join('\n');
}

describe('user info in media URLs', () => {
  it('is stripped where URLs enter (payloads, redirects): never fetched with, printed, journaled or emitted', async () => {
    const pages: Record<string, unknown[]> = {};
    const server = await serve({
      pages,
      handle: (req, res) => {
        // One photo's best size redirects to a URL that carries a password of its own.
        if (req.kind !== 'cdn' || !req.path.endsWith('/FQAulhzX0A8OtrC') || req.query['name'] !== 'orig') return false;
        res.writeHead(302, { location: `http://user:swordfish@${server.host}/pbs.twimg.com/media/FQAulhzX0A8OtrC?format=jpg&name=large`, 'content-length': '0' }).end();
        return true;
      },
    });
    const at = (password: string) => `http://user:${password}@${server.host}/`;
    Object.assign(
      pages,
      seedPagesEdited((json) =>
        json
          .replaceAll('https://pbs.twimg.com/media/FREAsbkXIAYiaVV', `${at('hunter2')}pbs.twimg.com/media/FREAsbkXIAYiaVV`)
          // A URL that is gone: its failure is printed, with the URL, on stderr.
          .replaceAll('https://pbs.twimg.com/media/FQIaaadXMAQU4E8', `${at('hunter3')}pbs.twimg.com/media/GONEaaaaaaaaaa`)
          .replaceAll('https://video.twimg.com/tweet_video/EpdichpWMAIPcr0.mp4', `${at('hunter4')}video.twimg.com/tweet_video/EpdichpWMAIPcr0.mp4`),
      ),
    );
    const out = tempDir();
    const result = await archiveRun(server, out);
    expect(result.code, result.stderr).toBe(1);
    const records = ndjson(result.stdout);
    const byKey = (key: string) => records.find((r) => r['media_key'] === key);
    expect(byKey('3_1517995312715079686')?.['url']).toBe(`${server.origin}/pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg`);
    expect(byKey('3_1517995312715079686')?.['source_url']).toBe(`${server.origin}/pbs.twimg.com/media/FREAsbkXIAYiaVV?format=jpg&name=orig`);
    expect(byKey('3_1513260697060364303')?.['source_url']).toBe(`${server.origin}/pbs.twimg.com/media/FQAulhzX0A8OtrC?format=jpg&name=large`);
    expect(byKey('16_1339647656373661698')?.['source_url']).toBe(`${server.origin}/video.twimg.com/tweet_video/EpdichpWMAIPcr0.mp4`);
    expect(result.stderr).toContain(`failed: 3_1513801465831305220 (tweet 1513801473074896899): HTTP 404 from ${server.origin}/pbs.twimg.com/media/GONEaaaaaaaaaa.jpg\n`);
    for (const secret of ['hunter2', 'hunter3', 'hunter4', 'swordfish', 'user:']) expect(everything(out, result).includes(secret), secret).toBe(false);
    expect(server.cdnRequests().filter((r) => r.headers.authorization !== undefined)).toEqual([]);
    expect(mediaFiles(out)).toHaveLength(6);
  });
});

describe('terminal escapes and bidi overrides from the API', () => {
  const EVIL = 'omar\u001b]0;pwned\u0007\u202eevil';
  const RAW = /[\u001b\u0007\u009b\u202e]/;

  it('are escaped in NDJSON (still the same JSON values) and kept out of file names', async () => {
    // A user name with them is no user name (X's are letters, digits and _): it is dropped, and
    // said so; alt text may hold anything, and travels escaped.
    const alt = 'Batman\u009b31m\u202eFIG';
    const server = await serve({
      pages: seedPagesEdited((json) => json.replaceAll('"username":"omarmhaimdat"', `"username":${JSON.stringify(EVIL)}`).replaceAll('Batman Thinking GIF', alt)),
    });
    const out = tempDir();
    const result = await archiveRun(server, out, ['--filename', '{username}/{tweet_id}_{n}.{ext}']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(RAW);
    const records = ndjson(result.stdout);
    const saved = records.filter((r) => r['status'] === 'downloaded');
    expect(saved.map((r) => r['username'])).toEqual(Array(7).fill(undefined));
    expect(records.filter((r) => r['status'] === 'skipped').map((r) => r['reason']).sort()).toEqual(
      saved.map((r) => `invalid tweet ${String(r['tweet_id'])}: user.username: not a user name`).sort(),
    );
    expect(records.find((r) => r['type'] === 'animated_gif')?.['alt_text']).toBe(alt);
    expect(result.stdout).toContain('"alt_text":"Batman\\u009b31m\\u202eFIG"');
    expect(mediaFiles(out)).toEqual(ALL.map((name) => `unknown/${name}`).sort());
  });

  it('are escaped in what reaches stderr (an API error message)', async () => {
    const server = await serve({
      handle: (req, res) => (req.kind === 'api' ? answer(res, 400, { success: false, error: { code: 'BAD', message: `no \u001b[2J${EVIL}` } }) : false),
    });
    const result = await archiveRun(server, tempDir());
    expect(result.code).toBe(4);
    expect(result.stderr).not.toMatch(RAW);
    // The summary first, then the error, escaped.
    expect(result.stderr.split('\n').slice(-2)).toEqual(['x-media-dump: the API answered HTTP 400 to /user/medias (page 1): no \\u001b[2Jomar\\u001b]0;pwned\\u0007\\u202eevil', '']);
  });
});

describe('a malformed AGNTDATA_API_KEY', () => {
  it('with a line break or a non-ASCII character: exit 2 saying which, the key never printed, no request', async () => {
    const server = await serve();
    for (const [key, what] of [
      ['agnt_live_SECRET1\nSECRET2', 'a line break'],
      ['agnt_live_SECRET1\r\nSECRET2', 'a line break'],
      ['agnt_live_SECRÉT1', 'a non-ASCII character'],
      ['agnt_live_\u201cSECRET1\u201d', 'a non-ASCII character'],
    ] as const) {
      const result = await archiveRun(server, tempDir(), [], { env: { AGNTDATA_API_KEY: key } });
      expect(result.code, JSON.stringify(key)).toBe(2);
      expect(result.stderr).toBe(`x-media-dump: AGNTDATA_API_KEY contains ${what}; copy the key again from your agntdata dashboard\n`);
      expect(result.stderr).not.toMatch(/SECR/);
    }
    expect(server.requests).toHaveLength(0);
  });
});

describe('--quiet', () => {
  it('--concurrency 32 --quiet: a successful run writes nothing at all, on either stream', async () => {
    const { pages, media } = paginate(tweetIds(40).map((id) => photoTweet(id, 1, 2048)), 40);
    const server = await serve({ pages: { [USER]: pages }, media, cdnLatencyMs: 200 });
    const out = tempDir();
    const result = await runCli(['--user', USER, '--out', out, '--concurrency', '32', '--quiet', ...serverArgs(server)]);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(mediaFiles(out)).toHaveLength(40);
    // More transfers were in flight at once than the 10 listeners Node warns past.
    expect(server.maxConcurrentCdn).toBeGreaterThan(10);
  });
});
