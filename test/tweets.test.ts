import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { toV2Tweet, type V2Tweet } from '../src/media/tweet.js';
import { archiveRun, ndjson, runCli, tempDir, useReplayServers } from './helpers/cli.js';
import { ALL, FILES, seedPages, seedServerPages, USER } from './helpers/seed.js';
import { sha256 } from './helpers/tweets.js';

/**
 * Issue 16: `export --tweets` gives one X API v2 Tweet per archived tweet, valid against X's own
 * schema (fixtures/reference/x-v2-tweet.schema.json); `--raw` the API's objects as stored.
 * Expected values are read from the payloads.
 */

type Json = Record<string, unknown>;
const serve = useReplayServers();
const REFERENCE = fileURLToPath(new URL('../fixtures/reference/', import.meta.url));
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
const noKey = { env: { AGNTDATA_API_KEY: undefined } };

// ajv 2020-12 in strict mode, as fixtures/reference/README.md shows.
function validator(): ValidateFunction {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  formats.default(ajv);
  return ajv.compile(readJson(`${REFERENCE}x-v2-tweet.schema.json`));
}
const validateTweet = validator();
// And against the record's own published contract (schemas/tweet-record.schema.json).
const validateRecord = new Ajv2020({ strict: false, allErrors: true }).compile(readJson(fileURLToPath(new URL('../schemas/tweet-record.schema.json', import.meta.url))));
function expectValid(tweet: unknown, where: string): void {
  expect(validateTweet(tweet), `${where}: ${JSON.stringify(validateTweet.errors)}`).toBe(true);
  expect(validateRecord(tweet), `${where} (tweet-record.schema.json): ${JSON.stringify(validateRecord.errors)}`).toBe(true);
}

const referenceFiles = ['v1', 'v1-graphql-legacy'].flatMap((dir) =>
  fs
    .readdirSync(`${REFERENCE}${dir}`)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: `${dir}/${f}`, raw: readJson(`${REFERENCE}${dir}/${f}`) })),
);
const reference = (prefix: string): Json => {
  const found = referenceFiles.find((f) => f.name.includes(prefix));
  if (!found) throw new Error(`no reference payload ${prefix}`);
  return found.raw;
};
const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});

describe('toV2Tweet on the reference payloads (X v1.1 and web GraphQL)', () => {
  it('maps every payload to a valid v2 Tweet whose id, text and created_at are the payload’s', () => {
    expect(referenceFiles).toHaveLength(27);
    for (const { name, raw } of referenceFiles) {
      const tweet = toV2Tweet(raw);
      expectValid(tweet, name);
      const extended = obj(raw['extended_tweet']);
      expect(tweet?.id, name).toBe(raw['id_str']);
      expect(tweet?.text, name).toBe(str(extended['full_text']) ?? str(raw['full_text']) ?? raw['text']);
      expect(tweet?.created_at, name).toBe(new Date(String(raw['created_at'])).toISOString());
      expect(tweet?.lang, name).toBe(raw['lang']);
      expect(tweet?.author_id, name).toBe(str(obj(raw['user'])['id_str']) ?? str(raw['user_id_str']));
      // Counts only in the extension, under v2's names; no v2 public_metrics is made up.
      expect(tweet && 'public_metrics' in tweet, name).toBe(false);
      expect(tweet?.x_media_dump?.public_metrics?.like_count, name).toBe(raw['favorite_count']);
      expect(tweet?.x_media_dump?.public_metrics?.retweet_count, name).toBe(raw['retweet_count']);
    }
  });

  it('names what each tweet refers to: a quote, a reply (with its user), a retweet (its original only)', () => {
    expect(toV2Tweet(reference('674691080227540993_quote_of_video'))?.referenced_tweets).toEqual([{ type: 'quoted', id: '674686215954808832' }]);
    const reply = toV2Tweet(reference('743496707711733760_animated_gif'));
    expect(reply?.referenced_tweets).toEqual([{ type: 'replied_to', id: '735108260718469121' }]);
    expect(reply?.in_reply_to_user_id).toBe('783214');
    expect(toV2Tweet(reference('1266102206857728003_retweet_two_photos'))?.referenced_tweets).toEqual([{ type: 'retweeted', id: '1266101980906340353' }]);
    // A retweet of a quote: the payload's top-level quoted_status_id_str is the original's.
    expect(toV2Tweet(reference('758520161947136000_retweet_of_quote'))?.referenced_tweets).toEqual([{ type: 'retweeted', id: '758519859470700544' }]);
    expect(toV2Tweet(reference('735060410664112132_four_photos'))?.referenced_tweets).toBeUndefined();
  });

  it('lists the tweet’s own media keys; a retweet’s and a quote’s media are the original’s', () => {
    expect(toV2Tweet(reference('735060410664112132_four_photos'))?.attachments).toEqual({
      media_keys: ['3_735060406935429120', '3_735060407052816384', '3_735060407249997824', '3_735060407426113536'],
    });
    expect(toV2Tweet(reference('fxtwitter_1848831595014459513'))?.attachments).toEqual({ media_keys: ['3_1848831473606135809', '3_1848831489116602369', '3_1848831507307409408'] });
    expect(toV2Tweet(reference('743496707711733760_animated_gif'))?.attachments).toEqual({ media_keys: ['16_743495942192566272'] });
    expect(toV2Tweet(reference('757260818589167619_retweet_three_photos'))?.attachments).toBeUndefined();
    expect(toV2Tweet(reference('1358860777625694210_quote_media_only_in_quoted'))?.attachments).toBeUndefined();
  });

  it('takes a compatibility-mode tweet’s full text, range and entities from extended_tweet', () => {
    const raw = reference('867473446648676352_compat_mode');
    const extended = obj(raw['extended_tweet']);
    const tweet = toV2Tweet(raw);
    expect(tweet?.text).toBe(extended['full_text']);
    expect(tweet?.display_text_range).toEqual([25, 165]);
    expect(tweet?.entities?.urls?.map((u) => u.url)).toEqual(['https://t.co/eAQvI8SV57']);
    expect(tweet?.entities?.mentions).toEqual([
      { start: 0, end: 13, username: 'notFromShrek', id: '2382763597' },
      { start: 14, end: 24, username: 'ericmbudd', id: '43194865' },
    ]);
  });

  it('moves v1.1 entities to v2’s names and offsets', () => {
    const tweet = toV2Tweet(reference('anaconda_303777106620452864'));
    expect(tweet?.entities).toEqual({
      hashtags: [{ start: 86, end: 93, tag: 'golang' }],
      urls: [{ start: 94, end: 114, url: 'http://t.co/eSq3ROwu', expanded_url: 'http://twitter.com/go_nuts/status/303777106620452864/photo/1', display_url: 'pic.twitter.com/eSq3ROwu' }],
    });
    // The web API's counts, bookmarks included (still no impression count, so still no v2 public_metrics).
    expect(toV2Tweet(reference('fxtwitter_1848831595014459513'))?.x_media_dump).toEqual({
      public_metrics: { retweet_count: 2875, reply_count: 823, like_count: 26045, quote_count: 307, bookmark_count: 715 },
    });
  });

  it('leaves out what is not a v2 value, and gives no record for a tweet without a usable id', () => {
    const raw = structuredClone(reference('anaconda_303777106620452864'));
    Object.assign(raw, { lang: 'not a tag!', possibly_sensitive: 'yes', in_reply_to_status_id_str: 12, favorite_count: -1 });
    const tweet = toV2Tweet(raw);
    expectValid(tweet, 'bad values');
    expect(tweet && ['lang', 'possibly_sensitive', 'referenced_tweets'].filter((k) => k in tweet)).toEqual([]);
    expect(tweet?.x_media_dump?.public_metrics).toEqual({ retweet_count: raw['retweet_count'] });
    for (const id of [undefined, '', 'abc', '18446744073709551615', 1234]) expect(toV2Tweet({ ...raw, id_str: id })).toBeUndefined();
    for (const junk of [null, 7, 'tweet', [], {}]) expect(toV2Tweet(junk)).toBeUndefined();
  });
});

/** The seed's tweets as the replay server sends them (media URLs pointed at it). */
function servedTweets(server: { rewriteUrls: (text: string) => string }, pages = seedPages()): Json[] {
  return pages.flatMap((page) => page.results.map((tweet) => JSON.parse(server.rewriteUrls(JSON.stringify(tweet))) as Json));
}

describe('export --tweets, through the CLI', () => {
  it('gives every tweet of the demo once, valid v2, with the payload’s values; --raw gives them as stored', async () => {
    const s = await serve();
    const out = tempDir();
    expect((await archiveRun(s, out)).code).toBe(0);
    const exported = await runCli(['export', '--tweets', '--out', out], noKey);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toBe('');
    const tweets = ndjson(exported.stdout) as unknown as V2Tweet[];
    const served = servedTweets(s);
    expect(tweets.map((t) => t.id).sort()).toEqual(served.map((t) => String(t['tweet_id'])).sort());
    for (const tweet of tweets) expectValid(tweet, tweet.id);
    for (const raw of served) {
      const tweet = tweets.find((t) => t.id === raw['tweet_id']);
      const user = obj(raw['user']);
      expect(tweet?.text).toBe(raw['text']);
      expect(tweet?.author_id).toBe(user['user_id']);
      expect(tweet?.username).toBe(user['username']);
      expect(tweet?.lang).toBe(raw['language']);
      expect(tweet?.conversation_id).toBe(raw['conversation_id']);
      expect(tweet?.created_at).toBe(new Date(Number(raw['timestamp']) * 1000).toISOString());
      const reply = str(raw['in_reply_to_status_id']);
      expect(tweet?.referenced_tweets).toEqual(reply ? [{ type: 'replied_to', id: reply }] : undefined);
      const media = obj(raw['extended_entities'])['media'] as Json[];
      expect(tweet?.attachments?.media_keys).toEqual(media.map((m) => m['media_key']));
      expect(tweet?.x_media_dump).toEqual({
        public_metrics: { retweet_count: raw['retweet_count'], reply_count: raw['reply_count'], like_count: raw['favorite_count'], quote_count: raw['quote_count'] },
      });
    }
    // One tweet, field by field, straight from fixtures/api/96479162/page-3.json.
    expect(tweets.find((t) => t.id === '1490431825918967810')).toEqual({
      id: '1490431825918967810',
      text: '@hunterwalk This is Dob, he is 4 years old, he farts and sleep all day, but I love him, and I think he loves me too 😄 https://t.co/oY5UwU6BcJ',
      created_at: '2022-02-06T21:06:52.000Z',
      author_id: '96479162',
      username: 'omarmhaimdat',
      lang: 'en',
      conversation_id: '1490349284222328832',
      referenced_tweets: [{ type: 'replied_to', id: '1490349284222328832' }],
      attachments: { media_keys: ['3_1490431813810114567'] },
      x_media_dump: { public_metrics: { retweet_count: 0, reply_count: 0, like_count: 2, quote_count: 0 } },
    });

    const raw = await runCli(['export', '--tweets', '--raw', '--out', out], noKey);
    expect(raw.code, raw.stderr).toBe(0);
    const stored = ndjson(raw.stdout);
    const byId = (list: Json[]) => [...list].sort((a, b) => String(a['tweet_id']).localeCompare(String(b['tweet_id'])));
    expect(byId(stored)).toEqual(byId(served));
  });

  it('a tweet seen on two pages (the head page fetched again) is exported once, as last seen', async () => {
    const pages = seedServerPages();
    const s = await serve({ pages });
    const out = tempDir();
    expect((await archiveRun(s, out)).code).toBe(0);
    // The head page again, with new counts on its first tweet.
    const page1 = structuredClone(pages[USER]?.[0]) as { results: Json[] };
    const first = page1.results[0] ?? {};
    Object.assign(first, { favorite_count: 99, retweet_count: 7 });
    pages[USER] = [page1, ...(pages[USER] ?? []).slice(1)];
    s.resetStats();
    const rerun = await archiveRun(s, out);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(s.apiRequests()).toHaveLength(1);

    for (const args of [['--tweets'], ['--tweets', '--raw']]) {
      const exported = await runCli(['export', ...args, '--out', out], noKey);
      expect(exported.code, exported.stderr).toBe(0);
      const lines = ndjson(exported.stdout);
      const ids = lines.map((t) => String(t['id'] ?? t['tweet_id']));
      expect(ids.sort()).toEqual(servedTweets(s).map((t) => String(t['tweet_id'])).sort());
      expect(new Set(ids).size).toBe(7);
    }
    const tweets = ndjson((await runCli(['export', '--tweets', '--out', out], noKey)).stdout) as unknown as V2Tweet[];
    expect(tweets.find((t) => t.id === first['tweet_id'])?.x_media_dump?.public_metrics).toEqual({ retweet_count: 7, reply_count: 2, like_count: 99, quote_count: 0 });
  });

  it('export without --tweets keeps its media records; --raw alone and a folder without an archive are exit 2', async () => {
    const s = await serve();
    const out = tempDir();
    expect((await archiveRun(s, out)).code).toBe(0);
    const media = await runCli(['export', '--out', out], noKey);
    expect(ndjson(media.stdout).map((r) => [r['media_key'], r['status']])).toHaveLength(7);
    expect(ndjson(media.stdout).every((r) => r['status'] === 'exists' && typeof r['sha256'] === 'string')).toBe(true);
    // Each record's path and hash are the seed's file as the server serves it.
    const seedHash = (name: string) => sha256(s.mediaBytes(FILES[name]?.key ?? '') ?? Buffer.alloc(0));
    expect(ndjson(media.stdout).map((r) => [r['path'], r['sha256']]).sort()).toEqual(ALL.map((name) => [name, seedHash(name)]));
    const rawAlone = await runCli(['export', '--raw', '--out', out], noKey);
    expect(rawAlone).toMatchObject({ code: 2, stdout: '', stderr: 'x-media-dump: --raw goes with --tweets: export --tweets --raw prints the tweets as the API sent them\n' });
    const empty = await runCli(['export', '--tweets', '--out', tempDir()], noKey);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^x-media-dump: .* is not an x-media-dump archive .*\n$/);
  });
});
