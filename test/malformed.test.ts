import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { archive, expectOnly, served } from './helpers/archive.js';
import { mediaFiles, ndjson, tempDir, useReplayServers } from './helpers/cli.js';
import { USER } from './helpers/seed.js';
import { paginate, photoTweet, sha256, tweetIds, videoTweet, type SyntheticTweet } from './helpers/tweets.js';

/**
 * One malformed tweet never stops the archive (issue 14): the built CLI against a page holding
 * one tweet of each kind that used to end every run with "unexpected error", among good ones.
 */

const serve = useReplayServers();

const ids = tweetIds(8);
const id = (n: number) => ids[n] ?? '';

/** Tweets 0, 6 and 7 are plain good ones; 1–5 carry one fault each. */
function page(): { tweets: SyntheticTweet[]; files: Record<string, string> } {
  const good = photoTweet(id(0), 2);
  // A retweet whose original is itself a retweet of a retweet … 1,000 levels down.
  const original = photoTweet(id(2));
  let chain: Record<string, unknown> = { tweet_id: '1', text: 'the bottom' };
  for (let level = 0; level < 1000; level++) chain = { tweet_id: String(1000 + level), retweet_status: chain };
  const deep: SyntheticTweet = {
    tweet: { ...photoTweet(id(1)).tweet, extended_entities: null, retweet_status: { ...original.tweet, retweet_status: chain } },
    files: original.files,
  };
  const stamped = photoTweet(id(3));
  delete stamped.tweet['creation_date'];
  stamped.tweet['timestamp'] = 1e300;
  const huge = photoTweet(id(4));
  delete huge.tweet['creation_date'];
  huge.tweet['tweet_id'] = '9'.repeat(400);
  const script = photoTweet(id(5));
  const [entry] = (script.tweet['extended_entities'] as { media: Record<string, unknown>[] }).media;
  if (entry) entry['media_url_https'] = 'javascript:alert(document.cookie)';
  const video = videoTweet(id(6));
  const last = photoTweet(id(7));
  const key = (t: SyntheticTweet, n = 0) => [...t.files.keys()][n] ?? '';
  return {
    tweets: [good, deep, stamped, huge, script, video, last],
    files: {
      [`${id(0)}_1.jpg`]: key(good),
      [`${id(0)}_2.jpg`]: key(good, 1),
      // The retweet's media are the original's, saved under the retweeting tweet's id.
      [`${id(1)}_1.jpg`]: key(original),
      [`${id(3)}_1.jpg`]: key(stamped),
      [`${id(6)}_1.mp4`]: key(video),
      [`${id(7)}_1.jpg`]: key(last),
    },
  };
}

const SKIPPED = [
  { tweet_id: id(1), status: 'skipped', reason: `invalid tweet ${id(1)}: retweet_status.retweet_status: nested deeper than the archive reads; not read` },
  { tweet_id: id(3), status: 'skipped', reason: `invalid tweet ${id(3)}: timestamp: out of range` },
  { tweet_id: '?', status: 'skipped', reason: 'invalid tweet 999999999999999999999999…: tweet_id: out of range' },
  { tweet_id: id(5), status: 'skipped', reason: `invalid media 1 of tweet ${id(5)}: extended_entities.media.0.media_url_https: not an http(s) URL` },
];

describe('malformed tweets on a page, end to end', () => {
  it('skips each bad tweet with a record naming it and the field, saves the rest, and a rerun pays once', async () => {
    const { tweets, files } = page();
    const { pages, media } = paginate(tweets, 6);
    const server = await serve({ pages: { [USER]: pages }, media });
    const out = tempDir();

    const first = await archive(server, out);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(/unexpected error/);
    expect(server.apiRequests()).toHaveLength(2);
    expectOnly(out, Object.keys(files));
    for (const [name, key] of Object.entries(files)) expect(sha256(fs.readFileSync(path.join(out, name))), name).toBe(sha256(served(server, key)));

    const records = ndjson(first.stdout);
    expect(records.filter((r) => r['status'] === 'skipped')).toEqual(SKIPPED);
    expect(records.filter((r) => r['status'] === 'downloaded').map((r) => r['path'])).toEqual(expect.arrayContaining(Object.keys(files)));
    expect(records).toHaveLength(SKIPPED.length + Object.keys(files).length);
    // The 1e300 timestamp is left out, the rest of its tweet kept: dated by its snowflake id instead.
    const stamped = records.find((r) => r['path'] === `${id(3)}_1.jpg`);
    expect(stamped?.['created_at']).toBe(new Date(Number((BigInt(id(3)) >> 22n) + 1288834974657n)).toISOString());
    expect(records.find((r) => r['path'] === `${id(1)}_1.jpg`)?.['source_tweet_id']).toBe(id(2));

    server.resetStats();
    const second = await archive(server, out);
    expect(second.code, second.stderr).toBe(0);
    expect(server.apiRequests()).toHaveLength(1);
    expect(server.cdnRequests()).toHaveLength(0);
    expect(mediaFiles(out)).toEqual(Object.keys(files).sort());
    expect(ndjson(second.stdout).filter((r) => r['status'] === 'skipped')).toEqual(SKIPPED);
  });
});
