import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { RecordedRequest, ReplayServer } from '../fixtures/replay-server.js';
import { archiveRun, listFiles, ndjson, runCli, tempDir, useReplayServers } from './helpers/cli.js';
import { deferred } from './helpers/faults.js';
import { USER } from './helpers/seed.js';
import { paginate, photoTweet, sha256, tweetIds } from './helpers/tweets.js';
import { prng } from './helpers/random.js';

/**
 * Issue 16's promise under `kill -9`: a page's tweets reach tweets.jsonl.gz before the journal
 * line that records the page, so no journaled page ever lacks its tweets, wherever a run dies;
 * and a clean run afterwards exports every tweet the server sent, exactly once. The journal and
 * the store are read here independently of the archive's own code.
 */

type Json = Record<string, unknown>;
const serve = useReplayServers();
const noKey = { env: { AGNTDATA_API_KEY: undefined } };

/** `count` one-photo tweets over pages of `perPage`: the server's pages and files. */
function account(count: number, perPage: number) {
  const tweets = tweetIds(count).map((id) => photoTweet(id, 1, 2048));
  return paginate(tweets, perPage);
}

/** The tweet ids of each page the server serves. */
const idsByPage = (pages: unknown[]) => pages.map((page) => ((page as { results: Json[] }).results ?? []).map((t) => String(t['tweet_id'])));

/** Every page marker of the journal's whole lines (a torn last line was never journaled). */
function pageMarkers(out: string): { seq: number; user_id: string; tweets?: { at: number; len: number } }[] {
  const journal = path.join(out, '.x-media-dump', 'journal.jsonl');
  // Killed before the journal was made: nothing is journaled.
  const text = fs.existsSync(journal) ? fs.readFileSync(journal, 'utf8') : '';
  const lines = text.split('\n');
  lines.pop();
  const markers: { seq: number; user_id: string; tweets?: { at: number; len: number } }[] = [];
  const visit = (entry: Json) => {
    if (entry['k'] === 'tx') for (const inner of entry['entries'] as Json[]) visit(inner);
    else if (entry['k'] === 'page') markers.push(entry as unknown as (typeof markers)[number]);
  };
  for (const line of lines) visit(JSON.parse(line) as Json);
  return markers;
}

/**
 * The property: every page marker names a gzip member of tweets.jsonl.gz that decompresses to
 * that page (same user and number), whose body holds exactly the tweets of one of the server's
 * pages. Returns how many markers it checked.
 */
function expectEveryPageKept(out: string, served: string[][], where: string): number {
  const markers = pageMarkers(out);
  const store = path.join(out, '.x-media-dump', 'tweets.jsonl.gz');
  const bytes = markers.length > 0 ? fs.readFileSync(store) : Buffer.alloc(0);
  for (const marker of markers) {
    expect(marker.tweets, `${where}: page ${marker.seq} has no tweets named`).toBeDefined();
    const { at, len } = marker.tweets ?? { at: 0, len: 0 };
    expect(at + len, `${where}: page ${marker.seq}'s tweets end past the store`).toBeLessThanOrEqual(bytes.length);
    const lines = gunzipSync(bytes.subarray(at, at + len)).toString('utf8').split('\n').filter(Boolean);
    expect(lines, where).toHaveLength(1);
    const stored = JSON.parse(lines[0] ?? '') as { user_id: string; seq: number; body: string };
    expect([stored.user_id, stored.seq], where).toEqual([marker.user_id, marker.seq]);
    const body = JSON.parse(stored.body) as { results: Json[] };
    expect(served, `${where}: page ${marker.seq}`).toContainEqual(body.results.map((t) => String(t['tweet_id'])));
  }
  return markers.length;
}

/** After a clean run: `export --tweets` gives every served tweet once; `--raw` gives them as served. */
async function expectExportedOnce(s: ReplayServer, out: string, pages: unknown[], where: string): Promise<void> {
  const served = pages.flatMap((page) => ((page as { results: Json[] }).results ?? []).map((t) => JSON.parse(s.rewriteUrls(JSON.stringify(t))) as Json));
  const v2 = await runCli(['export', '--tweets', '--out', out], noKey);
  expect(v2.code, `${where}: ${v2.stderr}`).toBe(0);
  expect(ndjson(v2.stdout).map((t) => String(t['id'])).sort(), where).toEqual(served.map((t) => String(t['tweet_id'])).sort());
  const raw = await runCli(['export', '--tweets', '--raw', '--out', out], noKey);
  const byId = (list: Json[]) => [...list].sort((a, b) => String(a['tweet_id']).localeCompare(String(b['tweet_id'])));
  expect(byId(ndjson(raw.stdout)), where).toEqual(byId(served));
}

/** Runs the CLI and SIGKILLs it once `trigger` resolves; true if it was killed (not done first). */
async function killedRun(s: ReplayServer, out: string, extra: string[], trigger: Promise<void>): Promise<boolean> {
  let child: ChildProcess | undefined;
  const running = archiveRun(s, out, extra, { onSpawn: (c) => (child = c) });
  await Promise.race([trigger, running]);
  child?.kill('SIGKILL');
  const result = await running;
  return result.signal === 'SIGKILL';
}

describe('kill -9 and the kept tweets', () => {
  it('killed as each request of a run arrives (just after each journal append): no journaled page lacks its tweets; a clean run exports each tweet once', async () => {
    const { pages, media } = account(6, 2);
    const served = idsByPage(pages);
    // One download at a time: each request goes out right after the journal line before it.
    const full = await serve({ pages: { [USER]: pages }, media });
    expect((await archiveRun(full, tempDir(), ['--concurrency', '1'])).code).toBe(0);
    const requests = full.requests.length;
    expect(requests).toBe(pages.length + media.size);
    await full.close();

    let checked = 0;
    for (let n = 1; n <= requests; n++) {
      const reached = deferred();
      let count = 0;
      let killing = true;
      const s = await serve({
        pages: { [USER]: pages },
        media,
        handle: async (_req: RecordedRequest, res) => {
          if (!killing || ++count !== n) return false;
          reached.resolve();
          await new Promise((r) => res.on('close', r));
          return true;
        },
      });
      const out = tempDir('xmd-kill-');
      expect(await killedRun(s, out, ['--concurrency', '1'], reached.promise), `kill at request ${n}`).toBe(true);
      killing = false;
      checked += expectEveryPageKept(out, served, `killed at request ${n}`);
      const rerun = await archiveRun(s, out);
      expect(rerun.code, `after the kill at request ${n}: ${rerun.stderr}`).toBe(0);
      expectEveryPageKept(out, served, `after the kill at request ${n}`);
      await expectExportedOnce(s, out, pages, `after the kill at request ${n}`);
      await s.close();
    }
    // Kills landed after pages were journaled, not only before the first one.
    expect(checked).toBeGreaterThan(requests);
  }, 120_000);

  it('killed at random points, run after run (seeded): the same holds, and every tweet gets its metadata sidecar', async () => {
    const seed = Number(process.env['CHAOS_SEED'] ?? 16_2026);
    const random = prng(seed);
    const { pages, media } = account(24, 3);
    const served = idsByPage(pages);
    // Each run is killed a random few milliseconds after its k-th request (k random): kills land
    // at every stage of a run, however slowly the machine starts a process.
    let arrived = 0;
    let killAt = Number.POSITIVE_INFINITY;
    let reached = deferred();
    const s = await serve({
      pages: { [USER]: pages },
      media,
      apiLatencyMs: 5,
      cdnLatencyMs: 5,
      handle: () => {
        if (++arrived === killAt) reached.resolve();
        return false;
      },
    });
    const out = tempDir('xmd-kill-');
    let kills = 0;
    let checked = 0;
    for (let attempt = 0; attempt < 10; attempt++) {
      arrived = 0;
      killAt = 1 + Math.floor(random() * 8);
      reached = deferred();
      const delay = Math.floor(random() * 30);
      const trigger = reached.promise.then(() => new Promise<void>((resolve) => setTimeout(resolve, delay)));
      const killed = await killedRun(s, out, ['--concurrency', '2', '--write-metadata'], trigger);
      if (!killed) break;
      kills += 1;
      checked += expectEveryPageKept(out, served, `seed ${seed}, kill ${kills}`);
    }
    killAt = Number.POSITIVE_INFINITY;
    expect(kills, `seed ${seed}`).toBeGreaterThan(0);
    expect(checked, `seed ${seed}: no kill landed after a page was journaled`).toBeGreaterThan(0);
    const final = await archiveRun(s, out, ['--write-metadata']);
    expect(final.code, `seed ${seed}: ${final.stderr}`).toBe(0);
    expect(final.stderr).toContain('history: complete');
    expect(expectEveryPageKept(out, served, `seed ${seed}, clean run`)).toBeGreaterThanOrEqual(pages.length);
    await expectExportedOnce(s, out, pages, `seed ${seed}`);

    // Each tweet's sidecar lists its photo as on disk, byte for byte what the server serves.
    const sidecars = listFiles(out).filter((f) => /^\d+\.json$/.test(f));
    expect(sidecars.sort(), `seed ${seed}`).toEqual(served.flat().map((id) => `${id}.json`).sort());
    for (const name of sidecars) {
      const { tweet, media: records } = JSON.parse(fs.readFileSync(path.join(out, name), 'utf8')) as { tweet: Json; media: Json[] };
      expect(tweet['id']).toBe(name.replace('.json', ''));
      expect(records.map((r) => r['status']), `seed ${seed}: ${name}`).toEqual(['exists']);
      const file = String(records[0]?.['path']);
      expect(records[0]?.['sha256'], `seed ${seed}: ${name}`).toBe(sha256(fs.readFileSync(path.join(out, file))));
      // …and that is what the server serves for the tweet's photo (helpers/tweets.ts names it).
      expect(records[0]?.['sha256'], `seed ${seed}: ${name}`).toBe(sha256(media.get(`pbs.twimg.com/media/P${BigInt(String(tweet['id'])) - 1000n}.jpg`) ?? Buffer.alloc(0)));
    }
    expect(listFiles(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 120_000);
});
