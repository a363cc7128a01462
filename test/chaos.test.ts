import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveRun, tempDir, useReplayServers } from './helpers/cli.js';
import { STATE_FILES, stateFiles } from './helpers/expect.js';
import { readJournal } from './helpers/journal.js';
import { USER } from './helpers/seed.js';
import { paginate, photoTweet, sha256, tweetIds, videoTweet } from './helpers/tweets.js';
import { prng } from './helpers/random.js';

/**
 * The chaos property: however many times a backfill is killed with SIGKILL, at whatever instant,
 * one clean run afterwards leaves every file byte-identical to the server's, nothing temporary
 * behind, and the API paid for at most once per page, plus once per kill (the page in flight when
 * it landed), plus one (the clean run's head check).
 */

const serve = useReplayServers();

describe('random SIGKILLs during a backfill', () => {
  const seed = Number(process.env['CHAOS_SEED'] ?? 20261203);

  it(`then a clean run: every file exact, nothing temporary, paid requests ≤ pages + kills + 1 (seed ${seed})`, async () => {
    const random = prng(seed);
    const tweets = tweetIds(48).map((id, i) => (i % 8 === 3 ? videoTweet(id, 64 * 1024) : photoTweet(id, 1 + (i % 3), 8 * 1024)));
    const { pages, media } = paginate(tweets, 4);
    // Paid: an API answer the server finished sending (agntdata charges for answers, not asks).
    let paid = 0;
    const s = await serve({
      pages: { [USER]: pages },
      media,
      apiLatencyMs: 25,
      cdnLatencyMs: 15,
      handle: (req, res) => {
        if (req.kind === 'api') res.on('finish', () => (paid += 1));
        return false;
      },
    });
    const out = tempDir('xmd-chaos-');
    let kills = 0;
    for (let attempt = 0; attempt < 12; attempt++) {
      let child: ChildProcess | undefined;
      const running = archiveRun(s, out, ['--concurrency', '3'], { onSpawn: (c) => (child = c) });
      const delay = 80 + Math.floor(random() * 500);
      const timer = setTimeout(() => child?.kill('SIGKILL'), delay);
      const result = await running;
      clearTimeout(timer);
      if (result.signal === 'SIGKILL') kills += 1;
      else break;
    }
    const final = await archiveRun(s, out, []);
    expect(final.code, `seed ${seed}: ${final.stderr}`).toBe(0);
    expect(final.stderr, `seed ${seed}`).toContain('history: complete');

    const journal = readJournal(out);
    const expected = [...media.keys()].sort();
    expect(journal.files.size, `seed ${seed}`).toBe(expected.length);
    for (const file of journal.files.values()) {
      const bytes = fs.readFileSync(path.join(out, file.path));
      expect(sha256(bytes), `seed ${seed}: ${file.path}`).toBe(file.sha256);
    }
    const onDisk = new Set([...journal.files.values()].map((f) => sha256(fs.readFileSync(path.join(out, f.path)))));
    for (const key of expected) expect(onDisk.has(sha256(media.get(key) ?? Buffer.alloc(0))), `seed ${seed}: ${key}`).toBe(true);
    expect(stateFiles(out), `seed ${seed}`).toEqual(STATE_FILES);
    expect(paid, `seed ${seed}: ${kills} kills, ${s.apiRequests().length} asked`).toBeLessThanOrEqual(pages.length + kills + 1);
    expect(kills, `seed ${seed}`).toBeGreaterThan(0);
  });
});
