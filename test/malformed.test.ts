import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createdAt, normalizeTweet, tweetFacts } from '../src/media/normalize.js';
import { planItem, type PlanOptions } from '../src/media/plan.js';
import { MEDIA_TYPES, type MediaItem, type Plan } from '../src/types.js';
import { archiveRun, mediaFiles, ndjson, runCli, tempDir, useReplayServers } from './helpers/cli.js';
import { expectOnly, served } from './helpers/expect.js';
import { USER } from './helpers/seed.js';
import { paginate, photoTweet, sha256, tweetIds, videoTweet, type SyntheticTweet } from './helpers/tweets.js';

/**
 * One malformed tweet never stops the archive (issue 14). Each kind that used to end every run
 * with "unexpected error" (a chain of retweets 1,000 deep, a 1e300 timestamp, a 400-digit id
 * with no date, a javascript: URL), and its neighbours, first through normalizeTweet and
 * planItem, then through the built CLI against a page holding one of each among good tweets.
 * Expected values are read from the synthetic payloads (test/helpers/tweets.ts).
 */

const serve = useReplayServers();

const ids = tweetIds(8);
const id = (n: number) => ids[n] ?? '';

type Json = Record<string, unknown>;
const ALL: PlanOptions = { types: new Set(MEDIA_TYPES), includeReposts: true, allowHosts: ['pbs.twimg.com', 'video.twimg.com'] };
const NESTED = 'nested deeper than the archive reads; not read';
const HUGE = '9'.repeat(400);

function field<T>(value: unknown, key: string): T {
  if (typeof value !== 'object' || value === null || !(key in value)) throw new Error(`no ${key} in ${JSON.stringify(value)}`);
  return (value as Record<string, T>)[key] as T;
}
const entryOf = (tweet: Json, n = 0): Json => field<Json[]>(field(tweet, 'extended_entities'), 'media')[n] ?? {};
const variantsOf = (tweet: Json): Json[] => field<Json[]>(field(entryOf(tweet), 'video_info'), 'variants');
const origOf = (url: string) => url.replace(/\.jpg$/, '?format=jpg&name=orig');

/** The item the payload's one photo should become, worked out from the payload alone. */
function photoItem(tweet: Json, dated = true): MediaItem {
  const entry = entryOf(tweet);
  const user = field<Json>(tweet, 'user');
  const created = dated ? { created_at: new Date(Date.parse(field(tweet, 'creation_date'))).toISOString() } : {};
  return {
    media: { media_key: field(entry, 'media_key'), type: 'photo', url: field(entry, 'media_url_https'), width: field(field(entry, 'original_info'), 'width'), height: field(field(entry, 'original_info'), 'height') },
    tweet: { tweet_id: field(tweet, 'tweet_id'), ...created, author_id: field(user, 'user_id'), username: field(user, 'username') },
    n: 1,
    availability: 'Available',
  };
}

/** What the normalizer and the planner make of one raw tweet: a plan as its first URL, or why not. */
function outcome(raw: unknown, options: PlanOptions = ALL): { items: MediaItem[]; problems: { tweet_id: string; reason: string }[]; plans: string[] } {
  const { items, problems } = normalizeTweet(raw);
  const shown = (plan: Plan) => (plan.kind === 'download' ? (plan.sources[0]?.url ?? '') : `skip: ${plan.reason}`);
  return { items, problems, plans: items.map((item) => shown(planItem(item, options))) };
}

/** `depth` tweets, each nesting the next under `key`; the top one's id is 1000 + depth - 1. */
function chainOf(depth: number, key: string): Json {
  let chain: Json = { tweet_id: '1', text: 'the bottom' };
  for (let level = 0; level < depth; level++) chain = { tweet_id: String(1000 + level), [key]: chain };
  return chain;
}

describe('one bad tweet, through normalizeTweet and planItem', () => {
  it('a retweet_status chain 1,000 deep: the retweet is read one level down, the nesting below reported, never recursed', () => {
    const original = photoTweet(id(2)).tweet;
    const retweet = photoTweet(id(1)).tweet;
    const tweet = { ...retweet, extended_entities: null, retweet_status: { ...original, retweet_status: chainOf(1000, 'retweet_status') } };
    expect(outcome(tweet)).toEqual({
      items: [{ ...photoItem(original), tweet: { ...photoItem(retweet).tweet, source_tweet_id: id(2), source_username: field(field(original, 'user'), 'username') } }],
      problems: [{ tweet_id: id(1), reason: `invalid tweet ${id(1)}: retweet_status.retweet_status: ${NESTED}` }],
      plans: [origOf(field(entryOf(original), 'media_url_https'))],
    });
    // A bare chain has nothing the archive reads.
    expect(outcome(chainOf(1000, 'retweet_status'))).toEqual({ items: [], problems: [{ tweet_id: '1999', reason: `invalid tweet 1999: retweet_status.retweet_status: ${NESTED}` }], plans: [] });
  });

  it('a quoted_status chain 5,000 deep, and a retweet of a quote of a chain: read to the retweet\'s quote, no deeper', () => {
    const original = photoTweet(id(2)).tweet;
    const quote = { ...photoTweet(id(1)).tweet, extended_entities: null, quoted_status: { ...original, quoted_status: chainOf(5000, 'quoted_status') } };
    expect(outcome(quote).problems).toEqual([{ tweet_id: id(1), reason: `invalid tweet ${id(1)}: quoted_status.quoted_status: ${NESTED}` }]);
    expect(outcome(quote).items.map((i) => [i.media.media_key, i.tweet.source_tweet_id])).toEqual([[field(entryOf(original), 'media_key'), id(2)]]);

    const retweet = { ...photoTweet(id(0)).tweet, extended_entities: null, retweet_status: { tweet_id: id(1), quoted_status: { ...original, retweet_status: chainOf(5000, 'retweet_status') } } };
    expect(outcome(retweet).problems).toEqual([{ tweet_id: id(0), reason: `invalid tweet ${id(0)}: retweet_status.quoted_status.retweet_status: ${NESTED}` }]);
    expect(outcome(retweet).items.map((i) => [i.media.media_key, i.tweet.source_tweet_id])).toEqual([[field(entryOf(original), 'media_key'), id(2)]]);
  });

  // An id before snowflakes (2006) dates nothing: only the date fields can.
  it.each([
    [{ timestamp: 1e300 }, 'timestamp: out of range', undefined],
    [{ timestamp: -1 }, 'timestamp: out of range', undefined],
    [{ timestamp: 'NaN' }, 'timestamp: Invalid input: expected number, received string', undefined],
    [{ timestamp: 1650753261 }, undefined, '2022-04-23T22:34:21.000Z'],
    [{ creation_date: 'Sat Apr 23 22:34:21 +0000 2022', timestamp: 1e300 }, 'timestamp: out of range', '2022-04-23T22:34:21.000Z'],
    [{ creation_date: 'yesterday', timestamp: 1650753261 }, 'creation_date: not a date', '2022-04-23T22:34:21.000Z'],
    [{ creation_date: '12' }, 'creation_date: not a date', undefined],
    [{ created_at: 'Mon Jan 01 00:00:00 +0000 1900' }, 'created_at: out of range', undefined],
    [{ created_at: '9999-12-31T23:59:59Z' }, 'created_at: out of range', undefined],
  ])('dates %j: the bad value is reported and left out, the media kept', (dates, problem, created) => {
    const tweet: Json = { ...photoTweet(id(3)).tweet, tweet_id: '20', ...dates };
    if (!('creation_date' in dates)) delete tweet['creation_date'];
    const item = photoItem({ ...tweet, creation_date: 'Sat Apr 23 22:34:21 +0000 2022' });
    expect(outcome(tweet)).toEqual({
      items: [{ ...item, tweet: { ...photoItem(tweet, false).tweet, ...(created ? { created_at: created } : {}) } }],
      problems: problem ? [{ tweet_id: '20', reason: `invalid tweet 20: ${problem}` }] : [],
      plans: [origOf(field(entryOf(tweet), 'media_url_https'))],
    });
  });

  it('a 400-digit tweet id with no date, or one past 2^64−1: the tweet is skipped, named as far as it can be', () => {
    const tweet: Json = { ...photoTweet(id(4)).tweet, tweet_id: HUGE };
    delete tweet['creation_date'];
    expect(outcome(tweet)).toEqual({ items: [], problems: [{ tweet_id: '?', reason: 'invalid tweet 999999999999999999999999…: tweet_id: out of range' }], plans: [] });
    expect(outcome({ ...tweet, tweet_id: '18446744073709551616' }).problems).toEqual([{ tweet_id: '?', reason: 'invalid tweet 18446744073709551616: tweet_id: out of range' }]);
    // 2^64−1 is an id; it dates past 2100, so it dates nothing.
    const last = outcome({ ...tweet, tweet_id: '18446744073709551615' });
    expect(last.problems).toEqual([]);
    expect(last.items).toEqual([{ ...photoItem(tweet, false), tweet: { ...photoItem(tweet, false).tweet, tweet_id: '18446744073709551615' } }]);
  });

  it('absurd media, user and original ids: the media is skipped, the user id or the repost left out', () => {
    const tweet = photoTweet(id(4)).tweet;
    const entry = entryOf(tweet);
    const where = `invalid media 1 of tweet ${id(4)}: extended_entities.media.0`;
    expect(outcome({ ...tweet, extended_entities: { media: [{ ...entry, id_str: HUGE }] } })).toEqual({ items: [], problems: [{ tweet_id: id(4), reason: `${where}.id_str: out of range` }], plans: [] });
    // The payload's media_key is the one left out: the key is built from the type and id_str.
    const keyed = outcome({ ...tweet, extended_entities: { media: [{ ...entry, media_key: `3_${HUGE}` }] } });
    expect(keyed.problems).toEqual([{ tweet_id: id(4), reason: `${where}.media_key: out of range` }]);
    expect(keyed.items.map((i) => i.media.media_key)).toEqual([`3_${field<string>(entry, 'id_str')}`]);

    const user = outcome({ ...tweet, user: { ...field<Json>(tweet, 'user'), user_id: HUGE } });
    expect(user.problems).toEqual([{ tweet_id: id(4), reason: `invalid tweet ${id(4)}: user.user_id: out of range` }]);
    const { author_id: _, ...noAuthor } = photoItem(tweet).tweet;
    expect(user.items).toEqual([{ ...photoItem(tweet), tweet: noAuthor }]);

    // An unreadable original: the retweet's own copy of the media, credited to retweet_tweet_id.
    const repost = outcome({ ...tweet, retweet_tweet_id: id(5), retweet_status: { tweet_id: HUGE, extended_entities: { media: [entry] } } });
    expect(repost.problems).toEqual([{ tweet_id: id(4), reason: `invalid tweet ${id(4)}: retweet_status.tweet_id: out of range` }]);
    expect(repost.items).toEqual([{ ...photoItem(tweet), tweet: { ...photoItem(tweet).tweet, source_tweet_id: id(5) } }]);
  });

  it('a javascript: or data: media URL never reaches a record: the photo is skipped, or the next URL used', () => {
    const tweet = photoTweet(id(5)).tweet;
    const entry = entryOf(tweet);
    const where = `invalid media 1 of tweet ${id(5)}: extended_entities.media.0`;
    const script = outcome({ ...tweet, extended_entities: { media: [{ ...entry, media_url_https: 'javascript:alert(document.cookie)' }] } });
    expect(script).toEqual({ items: [], problems: [{ tweet_id: id(5), reason: `${where}.media_url_https: not an http(s) URL` }], plans: [] });
    const plain = field<string>(entry, 'media_url_https').replace('https:', 'http:');
    const data = outcome({ ...tweet, extended_entities: { media: [{ ...entry, media_url_https: 'data:image/jpeg;base64,/9j/4AAQ', media_url: plain }] } });
    expect(data.problems).toEqual([{ tweet_id: id(5), reason: `${where}.media_url_https: not an http(s) URL` }]);
    expect(data.items).toEqual([{ ...photoItem(tweet), media: { ...photoItem(tweet).media, url: plain } }]);
    expect(data.plans).toEqual([origOf(plain)]);

    const fallback = (extra: Json) => outcome({ ...tweet, extended_entities: null, ...extra }).problems;
    expect(fallback({ media_url: ['javascript:alert(1)'] })).toEqual([{ tweet_id: id(5), reason: `invalid media 1 of tweet ${id(5)}: media_url.0: not an http(s) URL` }]);
    expect(fallback({ video_url: 'javascript:alert(1)' })).toEqual([{ tweet_id: id(5), reason: `invalid media 1 of tweet ${id(5)}: video_url: not an http(s) URL` }]);
  });

  it('a javascript: variant is left out and the best other mp4 chosen; a host off the allowlist is a skip naming it', () => {
    const video = videoTweet(id(6)).tweet;
    const variants = variantsOf(video);
    const bad = variants.map((v, i) => (i === 2 ? { ...v, url: 'javascript:alert(1)' } : v));
    const tweet = { ...video, extended_entities: { media: [{ ...entryOf(video), video_info: { ...field<Json>(entryOf(video), 'video_info'), variants: bad } }] } };
    const { items, problems, plans } = outcome(tweet);
    expect(problems).toEqual([{ tweet_id: id(6), reason: `invalid media 1 of tweet ${id(6)}: extended_entities.media.0.video_info.variants.2.url: not an http(s) URL` }]);
    expect(items.map((i) => i.media.variants?.map((v) => v.url))).toEqual([[0, 1, 3].map((i) => field<string>(variants[i], 'url'))]);
    expect(plans).toEqual([field(variants[1], 'url')]);

    const photo = outcome(photoTweet(id(5)).tweet, { ...ALL, allowHosts: ['video.twimg.com'] });
    expect(photo.plans).toEqual(['skip: url: host pbs.twimg.com is not on the allowlist (add it with --allow-host pbs.twimg.com)']);
    expect(outcome(video, { ...ALL, allowHosts: ['pbs.twimg.com'] }).plans).toEqual([
      'skip: variants.2.url: host video.twimg.com is not on the allowlist (add it with --allow-host video.twimg.com)',
    ]);
  });

  it('negative or fractional sizes, durations, bit rates and counts are left out, the media kept', () => {
    const video = videoTweet(id(6)).tweet;
    const entry = entryOf(video);
    const info = field<Json>(entry, 'video_info');
    const variants = variantsOf(video).map((v, i) => (i === 1 ? { ...v, bitrate: -1 } : v));
    const tweet = { ...video, video_view_count: 1e300, extended_entities: { media: [{ ...entry, original_info: { width: -1, height: 720 }, video_info: { ...info, duration_millis: 1.5, variants } }] } };
    const { items, problems } = outcome(tweet);
    const where = `extended_entities.media.0`;
    expect(problems).toEqual([
      { tweet_id: id(6), reason: `invalid tweet ${id(6)}: video_view_count: expected a whole number ≥ 0` },
      {
        tweet_id: id(6),
        reason: `invalid media 1 of tweet ${id(6)}: ${where}.original_info.width: expected a whole number ≥ 0; ${where}.video_info.duration_millis: expected a whole number ≥ 0; ${where}.video_info.variants.1.bitrate: expected a whole number ≥ 0`,
      },
    ]);
    // No width, height, duration or view count is left; the variant keeps its URL without a bit rate.
    expect(items.map((i) => i.media)).toEqual([
      {
        media_key: field(entry, 'media_key'),
        type: 'video',
        preview_image_url: field(entry, 'media_url_https'),
        variants: variants.map((v) => ({ ...(typeof v['bitrate'] === 'number' && v['bitrate'] >= 0 ? { bit_rate: v['bitrate'] } : {}), content_type: v['content_type'], url: v['url'] })),
      },
    ]);
  });
});

describe('tweetFacts and createdAt, for the pager', () => {
  const tweet = photoTweet(id(0)).tweet;
  it.each([
    ['a good tweet', tweet, BigInt(id(0)), Date.parse(field(tweet, 'creation_date'))],
    ['id_str, X\'s name', { id_str: id(0), timestamp: 1650753261 }, BigInt(id(0)), 1650753261000],
    ['2^64−1, no date', { tweet_id: '18446744073709551615' }, (1n << 64n) - 1n, undefined],
    ['2^64', { tweet_id: '18446744073709551616', timestamp: 1650753261 }, undefined, 1650753261000],
    ['400 digits, no date', { tweet_id: HUGE }, undefined, undefined],
    ['a numeric id', { tweet_id: 1517995317697916928, id_str: id(0) }, undefined, undefined],
    ['a 1e300 timestamp', { tweet_id: '20', timestamp: 1e300 }, 20n, undefined],
    ['a deep chain', chainOf(5000, 'retweet_status'), 5999n, undefined],
    ['null', null, undefined, undefined],
    ['an array', [tweet], undefined, undefined],
  ])('%s', (_name, raw, expectedId, expectedTime) => {
    expect(tweetFacts(raw)).toEqual({ id: expectedId, time: expectedTime });
  });

  it('createdAt never throws: out of range is undefined', () => {
    expect(createdAt({ timestamp: 1e300 }, HUGE)).toBeUndefined();
    expect(createdAt({ creation_date: 'Sat Apr 23 22:34:21 +0000 2022' }, HUGE)).toBe('2022-04-23T22:34:21.000Z');
  });
});

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

    const first = await archiveRun(server, out);
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
    const second = await archiveRun(server, out);
    expect(second.code, second.stderr).toBe(0);
    expect(server.apiRequests()).toHaveLength(1);
    expect(server.cdnRequests()).toHaveLength(0);
    expect(mediaFiles(out)).toEqual(Object.keys(files).sort());
    expect(ndjson(second.stdout).filter((r) => r['status'] === 'skipped')).toEqual(SKIPPED);
  });

  it('media on a host off the allowlist wait, skipped, for the run that allows it, which pays no page again to fetch them', async () => {
    const tweets = [photoTweet(id(0)), videoTweet(id(6))];
    const { pages, media } = paginate(tweets, 5);
    const server = await serve({ pages: { [USER]: pages }, media });
    const out = tempDir();
    const first = await runCli(['--user', USER, '--out', out, '--json', '--retries', '0', '--api-base', server.apiBase]);
    expect(first.code, first.stderr).toBe(0);
    const refused = (field: string) => `${field}: host ${server.host} is not on the allowlist (add it with --allow-host ${server.host})`;
    expect(ndjson(first.stdout).map((r) => [r['status'], r['reason']])).toEqual([
      ['skipped', refused('url')],
      ['skipped', refused('variants.2.url')],
    ]);
    expect(server.cdnRequests()).toHaveLength(0);

    server.resetStats();
    const second = await archiveRun(server, out);
    expect(second.code, second.stderr).toBe(0);
    expect(server.apiRequests()).toHaveLength(1);
    const saved = { [`${id(0)}_1.jpg`]: [...(tweets[0]?.files.keys() ?? [])][0] ?? '', [`${id(6)}_1.mp4`]: [...(tweets[1]?.files.keys() ?? [])][0] ?? '' };
    expect(mediaFiles(out)).toEqual(Object.keys(saved).sort());
    for (const [name, key] of Object.entries(saved)) expect(sha256(fs.readFileSync(path.join(out, name))), name).toBe(sha256(served(server, key)));
  });
});
