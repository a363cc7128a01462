import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReplayServer } from '../fixtures/replay-server.js';
import { archiveRun, listFiles, tempDir, useReplayServers } from './helpers/cli.js';
import { expectNoStack } from './helpers/expect.js';
import { FILES, MP4, seedPages, seedServerPages, USER } from './helpers/seed.js';
import { sha256 } from './helpers/tweets.js';

/**
 * Issue 16's `--write-metadata`: a JSON file per tweet beside its media, `{tweet, media}`, named
 * by `--metadata-filename`, written atomically once the tweet's media are saved, and rewritten
 * only when its bytes change. Expected values are read from the seed pages and the files the
 * replay server serves.
 */

type Json = Record<string, unknown>;
const serve = useReplayServers();
const WRITE = ['--write-metadata'];

interface Sidecar {
  tweet: Json & { id: string; x_media_dump?: { public_metrics?: Json } };
  media: Json[];
}
const readSidecar = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Sidecar;
const seedTweets = () => seedPages().flatMap((page) => page.results);
/** Each file's identity: a rewrite (temp file renamed over it) gives a new inode. */
const identities = (files: string[]) => files.map((f) => `${f} ${fs.statSync(f).ino} ${fs.statSync(f).mtimeMs}`);
const sidecarsIn = (out: string) => listFiles(out).filter((f) => f.endsWith('.json') && !f.startsWith('.x-media-dump/'));

/** What the sidecar of a seed tweet must hold, from its payload and the served file. */
function expectedSidecar(s: ReplayServer, raw: Json): Sidecar {
  const id = String(raw['tweet_id']);
  const user = raw['user'] as Json;
  const [name, file] = Object.entries(FILES).find(([n]) => n.startsWith(`${id}_`)) ?? [];
  const bytes = s.mediaBytes(file?.key ?? '') ?? Buffer.alloc(0);
  const entry = ((raw['extended_entities'] as Json)['media'] as Json[])[0] ?? {};
  const reply = raw['in_reply_to_status_id'];
  const created = new Date(Number(raw['timestamp']) * 1000).toISOString();
  return {
    tweet: {
      id,
      text: String(raw['text']),
      created_at: created,
      author_id: user['user_id'],
      username: user['username'],
      lang: raw['language'],
      conversation_id: raw['conversation_id'],
      ...(typeof reply === 'string' ? { referenced_tweets: [{ type: 'replied_to', id: reply }] } : {}),
      attachments: { media_keys: [entry['media_key']] },
      x_media_dump: { public_metrics: { retweet_count: raw['retweet_count'], reply_count: raw['reply_count'], like_count: raw['favorite_count'], quote_count: raw['quote_count'] } },
    },
    media: [
      expect.objectContaining({
        media_key: entry['media_key'],
        type: entry['type'],
        tweet_id: id,
        created_at: created,
        author_id: user['user_id'],
        username: user['username'],
        status: 'exists',
        path: name,
        bytes: bytes.length,
        sha256: sha256(bytes),
      }) as Json,
    ],
  };
}

describe('--write-metadata', () => {
  it('writes one sidecar per tweet beside its media, with the tweet’s v2 record and its media records', async () => {
    const s = await serve();
    const out = tempDir();
    const run = await archiveRun(s, out, WRITE);
    expect(run.code, run.stderr).toBe(0);
    const tweets = seedTweets();
    expect(sidecarsIn(out)).toEqual(tweets.map((t) => `${String(t['tweet_id'])}.json`).sort());
    for (const raw of tweets) expect(readSidecar(path.join(out, `${String(raw['tweet_id'])}.json`))).toEqual(expectedSidecar(s, raw));
    // Pretty JSON, as people read it; nothing temporary left behind.
    expect(fs.readFileSync(path.join(out, '1490431825918967810.json'), 'utf8')).toMatch(/^\{\n {2}"tweet": \{\n {4}"id": "1490431825918967810",\n/);
    expect(listFiles(out).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('a rerun with nothing new rewrites none; a tweet whose counts changed gets its file rewritten, alone', async () => {
    const pages = seedServerPages();
    const s = await serve({ pages });
    const out = tempDir();
    expect((await archiveRun(s, out, WRITE)).code).toBe(0);
    const files = sidecarsIn(out).map((f) => path.join(out, f));
    const before = identities(files);
    await new Promise((resolve) => setTimeout(resolve, 20));

    // What a run killed while rewriting a sidecar leaves beside it: removed once the sidecar is checked.
    const headTweet = String(seedTweets()[0]?.['tweet_id']);
    const leftover = path.join(out, `.${headTweet}.json.x-media-dump.tmp`);
    fs.writeFileSync(leftover, '{"tweet": {"id": "half');

    s.resetStats();
    const idle = await archiveRun(s, out, WRITE);
    expect(idle.code, idle.stderr).toBe(0);
    expect(s.apiRequests()).toHaveLength(1);
    expect(identities(files)).toEqual(before);
    expect(fs.existsSync(leftover)).toBe(false);

    // The head page again, with new counts on its first tweet.
    const page1 = structuredClone(pages[USER]?.[0]) as { results: Json[] };
    const changed = page1.results[0] ?? {};
    Object.assign(changed, { favorite_count: 99, reply_count: 5 });
    pages[USER] = [page1, ...(pages[USER] ?? []).slice(1)];
    const rerun = await archiveRun(s, out, WRITE);
    expect(rerun.code, rerun.stderr).toBe(0);
    const changedFile = path.join(out, `${String(changed['tweet_id'])}.json`);
    const after = identities(files);
    expect(after.filter((line, i) => line !== before[i])).toEqual([after[files.indexOf(changedFile)]]);
    expect(readSidecar(changedFile).tweet.x_media_dump?.public_metrics).toEqual({ retweet_count: changed['retweet_count'], reply_count: 5, like_count: 99, quote_count: changed['quote_count'] });
  });

  it('a file that failed is listed as still to fetch, and its sidecar is rewritten when a later run saves it', async () => {
    let failing = true;
    const s = await serve({
      handle: (req, res) => {
        if (!failing || req.kind !== 'cdn' || !req.path.includes('EpdichpWMAIPcr0.mp4')) return false;
        res.writeHead(404).end();
        return true;
      },
    });
    const out = tempDir();
    const first = await archiveRun(s, out, WRITE);
    expect(first.code).toBe(1);
    const sidecar = path.join(out, '1339647664338702336.json');
    expect(readSidecar(sidecar).media.map((m) => [m['media_key'], m['status'], m['reason'], m['path']])).toEqual([['16_1339647656373661698', 'planned', 'not downloaded yet', undefined]]);

    // The next run pays for page 1 only; the file's page is not fetched again, yet its sidecar follows.
    failing = false;
    s.resetStats();
    const second = await archiveRun(s, out, WRITE);
    expect(second.code, second.stderr).toBe(0);
    expect(s.apiRequests()).toHaveLength(1);
    const bytes = s.mediaBytes(MP4) ?? Buffer.alloc(0);
    expect(readSidecar(sidecar).media.map((m) => [m['status'], m['path'], m['bytes'], m['sha256']])).toEqual([['exists', '1339647664338702336_1.mp4', bytes.length, sha256(bytes)]]);
  });

  it('turned on for an archive made without it: every tweet gets its sidecar, at no API cost beyond the head check', async () => {
    const s = await serve();
    const out = tempDir();
    expect((await archiveRun(s, out)).code).toBe(0);
    expect(sidecarsIn(out)).toEqual([]);
    s.resetStats();
    const run = await archiveRun(s, out, ['--metadata-filename', '{username}/{date}/{tweet_id}.json']);
    expect(run.code, run.stderr).toBe(0);
    expect(s.apiRequests()).toHaveLength(1);
    const expected = seedTweets().map((t) => `omarmhaimdat/${new Date(Number(t['timestamp']) * 1000).toISOString().slice(0, 10)}/${String(t['tweet_id'])}.json`);
    expect(sidecarsIn(out)).toEqual(expected.sort());
    for (const raw of seedTweets()) {
      const file = expected.find((f) => f.endsWith(`/${String(raw['tweet_id'])}.json`)) ?? '';
      expect(readSidecar(path.join(out, file))).toEqual(expectedSidecar(s, raw));
    }
  });

  it('a template into .x-media-dump/, or without {tweet_id}, or not ending in .json, is exit 2 before any request', async () => {
    const s = await serve();
    const cases: [string, string][] = [
      ['.x-media-dump/{tweet_id}.json', 'renders into .x-media-dump/, the archive\'s state folder; pick another folder name'],
      ['{username}.json', 'needs {tweet_id}: one file per tweet, e.g. {username}/{tweet_id}.json'],
      ['{tweet_id}_{n}.jpg', 'must end in .json (or .{ext}), so it can never name a media file'],
      ['../{tweet_id}.json', 'must stay inside --out'],
    ];
    for (const [template, problem] of cases) {
      const out = tempDir();
      const result = await archiveRun(s, out, ['--write-metadata', '--metadata-filename', template]);
      expect(result.code, template).toBe(2);
      expect(result.stderr).toBe(`x-media-dump: --metadata-filename ${JSON.stringify(template)} ${problem}\n`);
      expectNoStack(result);
      expect(fs.readdirSync(out)).toEqual([]);
    }
    expect(s.requests).toHaveLength(0);
  });

  it('never writes through a link: a folder that is one fails that sidecar (exit 1), and nothing lands outside', async () => {
    const s = await serve();
    const out = tempDir();
    const elsewhere = tempDir();
    fs.symlinkSync(elsewhere, path.join(out, 'meta'));
    const run = await archiveRun(s, out, ['--metadata-filename', 'meta/{tweet_id}.json']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('failed: ? (tweet 1517995317697916928): metadata: refusing to write meta/1517995317697916928.json: meta is a symbolic link, which is never followed');
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    expectNoStack(run);
  });
});
