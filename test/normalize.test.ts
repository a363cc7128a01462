import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { V1MediaSchema } from '../src/media/schema.js';
import { mediaOfUrl, normalizeMedia, normalizeTweet } from '../src/media/normalize.js';
import { planItem, type PlanOptions } from '../src/media/plan.js';
import { renderFilename } from '../src/media/filename.js';
import { toRecord } from '../src/output/records.js';
import { MEDIA_TYPES, type Media, type MediaItem, type Variant } from '../src/types.js';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
function obj(value: unknown): Json {
  if (!isObject(value)) throw new Error(`expected an object, got ${JSON.stringify(value)}`);
  return value;
}
const str = (value: unknown): string => {
  if (typeof value !== 'string') throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
};
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const clone = <T>(value: T): T => structuredClone(value);

const ROOT = new URL('../', import.meta.url);
// A copy of ../shared/reference (real payloads, provenance and licenses in its PROVENANCE.md).
const REFERENCE = fileURLToPath(new URL('fixtures/reference/', ROOT));
const ALL: PlanOptions = { types: new Set(MEDIA_TYPES), includeReposts: true, allowHosts: ['pbs.twimg.com', 'video.twimg.com'] };

// ajv 2020-12 in strict mode, as reference/README.md shows.
function validator(file: string): ValidateFunction {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  formats.default(ajv);
  return ajv.compile(obj(readJson(`${REFERENCE}${file}`)));
}
const validateMedia = validator('x-v2-media.schema.json');
const validateFlat = validator('x-v2-media.openapi-2.167-flat.schema.json');
function expectValidV2(media: Media, where: string): void {
  expect(validateMedia(media), `${where}: ${JSON.stringify(validateMedia.errors)}`).toBe(true);
  expect(validateFlat(media), `${where} (2.167): ${JSON.stringify(validateFlat.errors)}`).toBe(true);
}

function seedTweets(): Json[] {
  const dir = fileURLToPath(new URL('fixtures/api/96479162/', ROOT));
  return [1, 2, 3].flatMap((n) => {
    const page = obj(readJson(`${dir}page-${n}.json`));
    return arr(isObject(page['data']) ? page['data']['results'] : page['results']).map(obj);
  });
}

const SEED_CONTEXT = { author_id: '96479162', username: 'omarmhaimdat' };

describe('the seed example (fixtures/api/96479162, the 7 tweets of seeds/000)', () => {
  const expected: MediaItem[] = [
    {
      media: { media_key: '3_1517995312715079686', type: 'photo', url: 'https://pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg', width: 3072, height: 1291 },
      tweet: { tweet_id: '1517995317697916928', created_at: '2022-04-23T22:34:21.000Z', ...SEED_CONTEXT },
      n: 1,
      availability: 'Available',
    },
    {
      media: { media_key: '3_1513801465831305220', type: 'photo', url: 'https://pbs.twimg.com/media/FQIaaadXMAQU4E8.jpg', width: 1170, height: 1487 },
      tweet: { tweet_id: '1513801473074896899', created_at: '2022-04-12T08:49:30.000Z', ...SEED_CONTEXT },
      n: 1,
      availability: 'Available',
    },
    {
      media: { media_key: '3_1513260697060364303', type: 'photo', url: 'https://pbs.twimg.com/media/FQAulhzX0A8OtrC.jpg', width: 946, height: 2048 },
      tweet: { tweet_id: '1513260712587669517', created_at: '2022-04-10T21:00:43.000Z', ...SEED_CONTEXT },
      n: 1,
      availability: 'Available',
    },
    {
      media: { media_key: '3_1497526859269038083', type: 'photo', url: 'https://pbs.twimg.com/media/FMhIvohWYAMjGv3.jpg', width: 1170, height: 831 },
      tweet: { tweet_id: '1497526869406670848', created_at: '2022-02-26T11:00:03.000Z', ...SEED_CONTEXT },
      n: 1,
      availability: 'Available',
    },
    {
      media: { media_key: '3_1490431813810114567', type: 'photo', url: 'https://pbs.twimg.com/media/FK8T1ogX0AcWyo0.jpg', width: 2320, height: 3088 },
      tweet: { tweet_id: '1490431825918967810', created_at: '2022-02-06T21:06:52.000Z', ...SEED_CONTEXT },
      n: 1,
      availability: 'Available',
    },
    {
      media: { media_key: '3_1401511456676405250', type: 'photo', url: 'https://pbs.twimg.com/media/E3MrPovWYAI64-i.jpg', width: 2032, height: 1144 },
      tweet: { tweet_id: '1401511472413487106', created_at: '2021-06-06T12:09:08.000Z', ...SEED_CONTEXT },
      n: 1,
      availability: 'Available',
    },
    {
      media: {
        media_key: '16_1339647656373661698',
        type: 'animated_gif',
        preview_image_url: 'https://pbs.twimg.com/tweet_video_thumb/EpdichpWMAIPcr0.jpg',
        width: 498,
        height: 342,
        alt_text: 'Batman Thinking GIF',
        variants: [{ bit_rate: 0, content_type: 'video/mp4', url: 'https://video.twimg.com/tweet_video/EpdichpWMAIPcr0.mp4' }],
      },
      tweet: { tweet_id: '1339647664338702336', created_at: '2020-12-17T19:04:27.000Z', ...SEED_CONTEXT },
      n: 1,
      availability: 'Available',
    },
  ];

  it('normalizes all 7 tweets to exactly these v2 objects, each valid against X schema', () => {
    const found = seedTweets().map((tweet) => normalizeTweet(tweet));
    expect(found.flatMap((f) => f.problems)).toEqual([]);
    expect(found.map((f) => f.items)).toEqual(expected.map((item) => [item]));
    for (const item of expected) expectValidV2(item.media, item.media.media_key);
  });

  it('plans the original of each photo and the mp4 of the GIF', () => {
    const plans = expected.map((item) => planItem(item, ALL));
    expect(plans.map((p) => (p.kind === 'download' ? [p.sources[0]?.url, p.sources[0]?.quality, p.ext] : p.reason))).toEqual([
      ['https://pbs.twimg.com/media/FREAsbkXIAYiaVV?format=jpg&name=orig', 'orig', 'jpg'],
      ['https://pbs.twimg.com/media/FQIaaadXMAQU4E8?format=jpg&name=orig', 'orig', 'jpg'],
      ['https://pbs.twimg.com/media/FQAulhzX0A8OtrC?format=jpg&name=orig', 'orig', 'jpg'],
      ['https://pbs.twimg.com/media/FMhIvohWYAMjGv3?format=jpg&name=orig', 'orig', 'jpg'],
      ['https://pbs.twimg.com/media/FK8T1ogX0AcWyo0?format=jpg&name=orig', 'orig', 'jpg'],
      ['https://pbs.twimg.com/media/E3MrPovWYAI64-i?format=jpg&name=orig', 'orig', 'jpg'],
      ['https://video.twimg.com/tweet_video/EpdichpWMAIPcr0.mp4', 'mp4 0bps', 'mp4'],
    ]);
  });

  it('without extended_entities, media_url alone gives the same keys and files', () => {
    const found = seedTweets().map((tweet) => {
      const bare = clone(tweet);
      delete bare['extended_entities'];
      return normalizeTweet(bare);
    });
    expect(found.flatMap((f) => f.problems)).toEqual([]);
    // The URL names the media id (and a GIF's thumbnail names its mp4), so nothing is lost or keyed twice.
    expect(found.map((f) => f.items)).toEqual(
      expected.map((item) => [
        {
          media: {
            media_key: item.media.media_key,
            type: item.media.type,
            ...(item.media.url ? { url: item.media.url } : {}),
            ...(item.media.preview_image_url ? { preview_image_url: item.media.preview_image_url } : {}),
            ...(item.media.variants ? { variants: item.media.variants } : {}),
          },
          tweet: item.tweet,
          n: 1,
        },
      ]),
    );
  });
});

// ---------------------------------------------------------------------------------------------

interface Entry {
  file: string;
  /** Where the tweet holding it sits: '', retweeted_status, quoted_status, …, extended_tweet. */
  at: string;
  holder: Json;
  raw: Json;
}

/** Every `extended_entities.media[]` object, wherever it is nested. */
function mediaEntries(file: string, value: unknown, at = '', out: Entry[] = []): Entry[] {
  if (Array.isArray(value)) value.forEach((v) => mediaEntries(file, v, at, out));
  if (!isObject(value)) return out;
  const entities = value['extended_entities'];
  if (isObject(entities)) for (const raw of arr(entities['media'])) out.push({ file, at, holder: value, raw: obj(raw) });
  for (const [key, v] of Object.entries(value)) mediaEntries(file, v, at ? `${at}.${key}` : key, out);
  return out;
}

const REFERENCE_FILES = ['v1', 'v1-graphql-legacy'].flatMap((dir) =>
  fs
    .readdirSync(`${REFERENCE}${dir}`)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: `${dir}/${f}`, tweet: obj(readJson(`${REFERENCE}${dir}/${f}`)) })),
);
const ENTRIES = REFERENCE_FILES.flatMap(({ file, tweet }) => mediaEntries(file, tweet));
const PREFIX: Record<string, string> = { photo: '3', video: '7', animated_gif: '16' };
const HLS = 'application/x-mpegURL';
const DASH = 'application/dash+xml';

function largestSize(raw: Json): { width: number; height: number } {
  const sizes = Object.values(obj(raw['sizes'])).map(obj);
  const areas = sizes.map((s) => ({ width: Number(s['w']), height: Number(s['h']) }));
  return areas.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
}

/** The media_key the payload gives, or the one DESIGN.md says to build from type and id_str. */
function keyOf(raw: Json): string {
  return typeof raw['media_key'] === 'string' ? raw['media_key'] : `${PREFIX[str(raw['type'])]}_${str(raw['id_str'])}`;
}

/** The v2 Media object DESIGN.md describes, worked out from the raw v1.1 object alone. */
function v2Of(raw: Json): Media {
  const type = MEDIA_TYPES.find((t) => t === raw['type']);
  if (!type) throw new Error(`no media type in ${JSON.stringify(raw)}`);
  const original = raw['original_info'];
  const size = isObject(original) ? { width: Number(original['width']), height: Number(original['height']) } : largestSize(raw);
  const info = isObject(raw['video_info']) ? raw['video_info'] : {};
  const duration = info['duration_millis'];
  const alt = raw['ext_alt_text'];
  const variants = arr(info['variants']).map(obj).map((v): Variant => ({ ...(typeof v['bitrate'] === 'number' ? { bit_rate: v['bitrate'] } : {}), content_type: str(v['content_type']), url: str(v['url']) }));
  return {
    media_key: keyOf(raw),
    type,
    ...(type === 'photo' ? { url: str(raw['media_url_https']) } : { preview_image_url: str(raw['media_url_https']) }),
    ...size,
    ...(type === 'video' && typeof duration === 'number' ? { duration_ms: duration } : {}),
    ...(typeof alt === 'string' ? { alt_text: alt } : {}),
    ...(type === 'photo' ? {} : { variants }),
  };
}

function pixels(url: string): number {
  const m = /\/vid\/(?:[a-z0-9]+\/)?(\d+)x(\d+)\//.exec(url);
  return m ? Number(m[1]) * Number(m[2]) : 0;
}

/** The file the issue says to choose, worked out from the raw v1.1 object alone. */
function expectedFile(raw: Json): string {
  const url = str(raw['media_url_https']);
  if (raw['type'] === 'photo') return url.replace(/\.(\w+)$/, '?format=$1&name=orig');
  const mp4s = arr(obj(raw['video_info'])['variants']).map(obj).filter((v) => v['content_type'] === 'video/mp4');
  if (mp4s.length === 0) return 'hls-only';
  const best = mp4s.reduce((a, b) => {
    const diff = Number(b['bitrate']) - Number(a['bitrate']) || pixels(str(b['url'])) - pixels(str(a['url']));
    return diff > 0 ? b : a;
  });
  return str(best['url']);
}

describe('real v1.1 payloads (fixtures/reference), every media object wherever it is nested', () => {
  it('finds 44 media objects (36 distinct per tweet) in 27 files, at every nesting the README lists', () => {
    expect(REFERENCE_FILES).toHaveLength(27);
    expect(ENTRIES).toHaveLength(44);
    expect(new Set(ENTRIES.map((e) => `${e.file} ${str(e.raw['id_str'])}`)).size).toBe(36);
    expect([...new Set(ENTRIES.map((e) => e.at))].sort()).toEqual(['', 'extended_tweet', 'quoted_status', 'retweeted_status', 'retweeted_status.quoted_status']);
  });

  it('normalizeMedia gives a v2 Media object true to the payload for each of them', () => {
    const tally = { photo: 0, video: 0, animated_gif: 0, altText: 0, altNull: 0, hls: 0, dash: 0, fromSizes: 0, fromOriginalInfo: 0 };
    for (const { file, raw } of ENTRIES) {
      const where = `${file} media ${str(raw['id_str'])}`;
      const media = normalizeMedia(V1MediaSchema.parse(raw));
      expectValidV2(media, where);
      const type = str(raw['type']);
      tally[type as 'photo' | 'video' | 'animated_gif'] += 1;

      expect(media, where).toEqual(v2Of(raw));
      expect(media.media_key, where).toBe(keyOf(raw));
      expect(media.media_key, where).toMatch(/^\d+_\d+$/);
      expect(media.media_key.split('_')[1], where).toBe(raw['id_str']);
      expect(media.type, where).toBe(type);
      expect(type === 'photo' ? media.url : media.preview_image_url, where).toBe(raw['media_url_https']);
      expect(type === 'photo' ? 'preview_image_url' in media : 'url' in media, where).toBe(false);

      const original = raw['original_info'];
      const size = isObject(original) ? { width: original['width'], height: original['height'] } : largestSize(raw);
      tally[isObject(original) ? 'fromOriginalInfo' : 'fromSizes'] += 1;
      expect({ width: media.width, height: media.height }, where).toEqual(size);

      if (typeof raw['ext_alt_text'] === 'string') {
        tally.altText += 1;
        expect(media.alt_text, where).toBe(raw['ext_alt_text']);
      } else {
        if (raw['ext_alt_text'] === null) tally.altNull += 1;
        expect('alt_text' in media, where).toBe(false);
      }

      const videoInfo = raw['video_info'];
      if (type === 'video') expect(media.duration_ms, where).toBe(obj(videoInfo)['duration_millis']);
      else expect('duration_ms' in media, where).toBe(false);

      if (type === 'photo') {
        expect('variants' in media, where).toBe(false);
      } else {
        const variants = arr(obj(videoInfo)['variants']).map(obj);
        expect(media.variants, where).toEqual(
          variants.map((v): Variant => ({
            ...(typeof v['bitrate'] === 'number' ? { bit_rate: v['bitrate'] } : {}),
            content_type: str(v['content_type']),
            url: str(v['url']),
          })),
        );
        for (const v of media.variants ?? []) {
          if (type === 'animated_gif') expect(v.bit_rate, where).toBe(0);
          if (v.content_type === HLS || v.content_type === DASH) {
            tally[v.content_type === HLS ? 'hls' : 'dash'] += 1;
            expect('bit_rate' in v, where).toBe(false);
          }
        }
      }
      expect('public_metrics' in media, where).toBe(false);

      const plan = planItem({ media, tweet: { tweet_id: '1' }, n: 1 }, ALL);
      const chosen = plan.kind === 'download' ? plan.sources[0]?.url : plan.reason;
      expect(chosen, where).toBe(expectedFile(raw));
    }
    // Counted independently from the JSON: the loop above really met each case.
    expect(tally).toEqual({ photo: 24, video: 10, animated_gif: 10, altText: 2, altNull: 3, hls: 10, dash: 5, fromSizes: 39, fromOriginalInfo: 5 });
  });

  it('normalizeTweet gives each tweet its media once per media_key, reposted and quoted ones with the original id', () => {
    let total = 0;
    for (const { file, tweet } of REFERENCE_FILES) {
      const { items, problems } = normalizeTweet(tweet);
      expect(problems, file).toEqual([]);
      const entries = ENTRIES.filter((e) => e.file === file);
      const keys = [...new Set(entries.map((e) => keyOf(e.raw)))];
      expect(items.map((i) => i.media.media_key).sort(), file).toEqual(keys.sort());
      expect(items.map((i) => i.n), file).toEqual(items.map((_, i) => i + 1));
      total += items.length;
      for (const item of items) {
        expectValidV2(item.media, file);
        // A retweet's own copy of the media is the original's: the deepest holder is the source.
        const holders = entries.filter((e) => keyOf(e.raw) === item.media.media_key);
        const nested = holders.filter((e) => e.at !== '' && e.at !== 'extended_tweet').sort((a, b) => b.at.length - a.at.length)[0];
        const from = nested ?? holders[0];
        if (!from) throw new Error(`no holder for ${item.media.media_key}`);
        expect(item.media, file).toEqual(v2Of(from.raw));
        expect(item.tweet.tweet_id, file).toBe(tweet['id_str']);
        expect(item.tweet.source_tweet_id, file).toBe(nested ? nested.holder['id_str'] : undefined);
        const sourceUser = nested && isObject(nested.holder['user']) ? nested.holder['user']['screen_name'] : undefined;
        expect(item.tweet.source_username, file).toBe(sourceUser);
      }
    }
    expect(total).toBe(36);
  });

  it('keeps tweet context: ISO date, author from user or user_id_str, 19-digit ids as given', () => {
    const context = (name: string) => normalizeTweet(REFERENCE_FILES.find((f) => f.file.includes(name))?.tweet).items.map((i) => i.tweet);
    expect(context('tweepy_1149914662164684800')).toEqual([
      { tweet_id: '1149914662164684800', created_at: '2019-07-13T05:33:14.000Z', author_id: '1072250532645998596', username: 'TweepyDev' },
    ]);
    expect(context('fxtwitter_1841206275088290279')).toEqual([{ tweet_id: '1841206275088290279', created_at: '2024-10-01T19:59:18.000Z', author_id: '974067190386147329' }]);
    expect(context('python-twitter_758520161947136000')).toEqual([
      {
        tweet_id: '758520161947136000',
        created_at: '2016-07-28T04:31:13.000Z',
        author_id: '12',
        username: 'jack',
        source_tweet_id: '758514276185374720',
        source_username: 'BroderickGreer',
      },
    ]);
  });

  it('chooses literally these files for a few of them', () => {
    const chosen = (name: string) =>
      normalizeTweet(REFERENCE_FILES.find((f) => f.file.includes(name))?.tweet).items.map((item) => {
        const plan = planItem(item, ALL);
        return plan.kind === 'download' ? `${plan.sources[0]?.url} ${plan.sources[0]?.quality}` : plan.reason;
      });
    expect(chosen('python-twitter_778307811012780032')).toEqual([
      'https://video.twimg.com/amplify_video/778025997606105089/vid/1280x720/mUiy98wFwECTRNxT.mp4 mp4 2176000bps 1280x720',
    ]);
    expect(chosen('tweepy_1149914662164684800')).toEqual(['https://pbs.twimg.com/media/D_VRSrrXkAAYzkx?format=png&name=orig orig']);
    expect(chosen('python-twitter_671793258159280128')).toEqual([
      'https://video.twimg.com/ext_tw_video/669435299068575744/pu/vid/626x360/cNuvl8oZp-ju13xw.mp4 mp4 832000bps 626x360',
    ]);
    expect(chosen('python-twitter_693191602957852676')).toEqual(['https://pbs.twimg.com/tweet_video/CZ62FwXXEAUQ5XO.mp4 mp4 0bps']);
  });

  it('skips an HLS-only video and media X marks unavailable, with the reason', () => {
    const video = obj(REFERENCE_FILES.find((f) => f.file.includes('fxtwitter_1841206275088290279'))?.tweet);
    const hlsOnly = clone(video);
    const media = obj(arr(obj(hlsOnly['extended_entities'])['media'])[0]);
    const info = obj(media['video_info']);
    info['variants'] = arr(info['variants']).filter((v) => obj(v)['content_type'] !== 'video/mp4');
    const unavailable = clone(video);
    obj(obj(arr(obj(unavailable['extended_entities'])['media'])[0])['ext_media_availability'])['status'] = 'Unavailable';

    const reasons = [video, hlsOnly, unavailable].map((t) => normalizeTweet(t).items.map((item) => planItem(item, ALL)).map((p) => (p.kind === 'skip' ? p.reason : p.kind)));
    expect(reasons).toEqual([['download'], ['hls-only'], ['unavailable: Unavailable']]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('agntdata shapes the reference lacks', () => {
  const gif = () => clone(seedTweets()[6] ?? {});
  const video = (): Json => {
    const raw = obj(arr(obj(REFERENCE_FILES.find((f) => f.file.includes('python-twitter_778307811012780032'))?.tweet['extended_entities'])['media'])[0]);
    return { tweet_id: '1800000000000000001', creation_date: 'Tue Sep 20 19:00:17 +0000 2016', user: { user_id: '5162861', username: 'NintendoAmerica' }, extended_entities: { media: [clone(raw)] } };
  };
  const views = (tweet: unknown) => normalizeTweet(tweet).items.map((i) => i.media.public_metrics?.view_count ?? null);

  it('takes view counts from mediaStats, ext.mediaStats.r.ok, or the tweet when it is the only video', () => {
    const withStats = (stats: Json) => {
      const tweet = video();
      Object.assign(obj(arr(obj(tweet['extended_entities'])['media'])[0]), stats);
      return tweet;
    };
    expect(views(withStats({ mediaStats: { viewCount: 4186 } }))).toEqual([4186]);
    expect(views(withStats({ ext: { mediaStats: { r: { ok: { viewCount: '2366779' } }, ttl: -1 } } }))).toEqual([2366779]);
    expect(views(withStats({ ext: { mediaStats: { r: 'Missing', ttl: -1 } } }))).toEqual([null]);
    expect(views({ ...video(), video_view_count: 1223553 })).toEqual([1223553]);
    expect(views({ ...video(), video_view_count: '77' })).toEqual([77]);
    // The media's own count wins over the tweet's.
    expect(views({ ...withStats({ mediaStats: { viewCount: 5 } }), video_view_count: 9 })).toEqual([5]);
    // A tweet-level count is a video's: not a photo's, and not split over two media.
    expect(views({ ...seedTweets()[0], video_view_count: 10 })).toEqual([null]);
    const two = video();
    const first = arr(obj(two['extended_entities'])['media'])[0];
    two['extended_entities'] = { media: [first, { ...obj(clone(first)), id_str: '778025997606105090' }] };
    expect(views({ ...two, video_view_count: 10 })).toEqual([null, null]);
    const item = normalizeTweet({ ...video(), video_view_count: 1223553 }).items[0];
    if (!item) throw new Error('no item');
    expectValidV2(item.media, 'video with views');
  });

  it('falls back to video_url, taking the id from the video URL, not from an amplify poster', () => {
    const raw = obj(arr(obj(video()['extended_entities'])['media'])[0]);
    const variants = arr(obj(raw['video_info'])['variants']);
    const tweet = { tweet_id: '778307811012780032', media_url: [raw['media_url_https']], video_url: variants, video_view_count: '12' };
    const { items, problems } = normalizeTweet(tweet);
    expect(problems).toEqual([]);
    expect(items.map((i) => i.media)).toEqual([
      {
        media_key: '7_778025997606105089',
        type: 'video',
        variants: variants.map(obj).map((v) => ({ ...(typeof v['bitrate'] === 'number' ? { bit_rate: v['bitrate'] } : {}), content_type: v['content_type'], url: v['url'] })),
        preview_image_url: 'https://pbs.twimg.com/media/CswaoY4UAAA8-Zj.jpg',
        public_metrics: { view_count: 12 },
      },
    ]);
    // The poster is a photo with an id of its own, not the video's.
    expect(mediaOfUrl('https://pbs.twimg.com/media/CswaoY4UAAA8-Zj.jpg')).toEqual({ type: 'photo', id: '778026116803985408' });

    const single = normalizeTweet({ tweet_id: '669435381184614400', video_url: 'https://video.twimg.com/ext_tw_video/669435299068575744/pu/vid/1280x720/a.mp4' });
    expect(single.items.map((i) => i.media)).toEqual([
      { media_key: '7_669435299068575744', type: 'video', variants: [{ content_type: 'video/mp4', url: 'https://video.twimg.com/ext_tw_video/669435299068575744/pu/vid/1280x720/a.mp4' }] },
    ]);
    const hls = normalizeTweet({ tweet_id: '669435381184614400', video_url: 'https://video.twimg.com/ext_tw_video/669435299068575744/pu/pl/a.m3u8' }).items[0];
    if (!hls) throw new Error('no item');
    expect(planItem(hls, ALL)).toMatchObject({ kind: 'skip', reason: 'hls-only' });
  });

  it('falls back to media_url for several photos, reporting a URL that names no media', () => {
    const { items, problems } = normalizeTweet({
      tweet_id: '735060410664112132',
      media_url: ['https://pbs.twimg.com/media/CjN1i6vXIAABfRQ.jpg', 'https://example.com/card.jpg', 'http://pbs.twimg.com/media/CjN1i8kWYAATFUI.png'],
    });
    expect(items.map((i) => [i.n, i.media])).toEqual([
      [1, { media_key: '3_735060406935429120', type: 'photo', url: 'https://pbs.twimg.com/media/CjN1i6vXIAABfRQ.jpg' }],
      [2, { media_key: '3_735060407426113536', type: 'photo', url: 'http://pbs.twimg.com/media/CjN1i8kWYAATFUI.png' }],
    ]);
    expect(problems).toEqual([{ tweet_id: '735060410664112132', reason: 'invalid media 2 of tweet 735060410664112132: media_url.1: no media id in https://example.com/card.jpg' }]);
    // An empty extended_entities says no more than a missing one.
    const empty = normalizeTweet({ tweet_id: '735060410664112132', extended_entities: { media: [] }, media_url: ['https://pbs.twimg.com/media/CjN1i6vXIAABfRQ.jpg'] });
    expect(empty.items.map((i) => i.media.media_key)).toEqual(['3_735060406935429120']);
  });

  it('records a retweet under the reposting tweet with the original id, and dedupes a quote of the same media', () => {
    const original = seedTweets()[0] ?? {};
    const retweet = { tweet_id: '1518000000000000000', creation_date: 'Sun Apr 24 00:00:00 +0000 2022', user: { user_id: '12', username: 'jack' }, retweet_status: original, quoted_status: original };
    expect(normalizeTweet(retweet).items.map((i) => [i.n, i.media.media_key, i.tweet])).toEqual([
      [
        1,
        '3_1517995312715079686',
        { tweet_id: '1518000000000000000', created_at: '2022-04-24T00:00:00.000Z', author_id: '12', username: 'jack', source_tweet_id: '1517995317697916928', source_username: 'omarmhaimdat' },
      ],
    ]);
    // agntdata may say only `retweet_tweet_id`: the media it copied is still the original's.
    const flagged = { ...clone(original), tweet_id: '1518000000000000000', retweet: true, retweet_tweet_id: '1517995317697916928' };
    expect(normalizeTweet(flagged).items.map((i) => i.tweet.source_tweet_id)).toEqual(['1517995317697916928']);
    // A retweet whose retweet_status carries no media keeps its own copy, credited to the original.
    const bare = { ...clone(original), tweet_id: '1518000000000000000', retweet_status: { tweet_id: '1517995317697916928', user: { username: 'omarmhaimdat' } } };
    expect(normalizeTweet(bare).items.map((i) => [i.media.media_key, i.tweet.source_tweet_id])).toEqual([['3_1517995312715079686', '1517995317697916928']]);
    const noReposts = normalizeTweet(retweet).items.map((item) => planItem(item, { ...ALL, includeReposts: false }));
    expect(noReposts.map((p) => (p.kind === 'skip' ? p.reason : p.kind))).toEqual(['filtered: repost']);
  });

  it('falls back on a GIF thumbnail alone to the mp4 under the same name, on the same host as given', () => {
    const tweet = gif();
    delete tweet['extended_entities'];
    tweet['media_url'] = ['http://127.0.0.1:4567/pbs.twimg.com/tweet_video_thumb/EpdichpWMAIPcr0.jpg'];
    expect(normalizeTweet(tweet).items.map((i) => i.media.variants)).toEqual([
      [{ bit_rate: 0, content_type: 'video/mp4', url: 'http://127.0.0.1:4567/video.twimg.com/tweet_video/EpdichpWMAIPcr0.mp4' }],
    ]);
  });
});

describe('malformed input', () => {
  it('turns a malformed tweet into a problem naming the field and the tweet, leaving its neighbours alone', () => {
    const [first, second] = seedTweets();
    const bad = { ...clone(second), extended_entities: { media: 'nope' } };
    const page = [first, bad, seedTweets()[2], { id_str: 12, tweet_id: 34 }, null].map((t) => normalizeTweet(t));
    expect(page.map((f) => f.items.map((i) => i.media.media_key))).toEqual([['3_1517995312715079686'], [], ['3_1513260697060364303'], [], []]);
    expect(page.flatMap((f) => f.problems)).toEqual([
      { tweet_id: '1513801473074896899', reason: 'invalid tweet 1513801473074896899: extended_entities.media: Invalid input: expected array, received string' },
      { tweet_id: '?', reason: 'invalid tweet (no id): tweet_id: Invalid input: expected string, received number; id_str: Invalid input: expected string, received number' },
      { tweet_id: '?', reason: 'invalid tweet (no id): (root): Invalid input: expected object, received null' },
    ]);
    expect(normalizeTweet({ text: 'no id' }).problems).toEqual([{ tweet_id: '?', reason: 'invalid tweet: tweet_id: missing' }]);
    // A numeric id has already lost digits; the string one beside it names the tweet.
    expect(normalizeTweet({ tweet_id: 1513801473074896899, id_str: '1513801473074896899' }).problems).toEqual([
      { tweet_id: '1513801473074896899', reason: 'invalid tweet 1513801473074896899: tweet_id: Invalid input: expected string, received number' },
    ]);
    expect(normalizeTweet({ tweet_id: '15', retweet_status: { tweet_id: 16 } }).problems).toEqual([
      { tweet_id: '15', reason: 'invalid tweet 15: retweet_status.tweet_id: Invalid input: expected string, received number' },
    ]);
  });

  it('turns a malformed media entry into a problem naming the field, the tweet and where it sits, keeping the rest', () => {
    const tweet = clone(seedTweets()[0] ?? {});
    const good = obj(arr(obj(tweet['extended_entities'])['media'])[0]);
    tweet['extended_entities'] = { media: [{ ...good, type: 'sticker' }, { ...good, id_str: undefined }, good, 7] };
    const { items, problems } = normalizeTweet(tweet);
    expect(items.map((i) => [i.n, i.media.media_key])).toEqual([[1, '3_1517995312715079686']]);
    expect(problems).toEqual([
      { tweet_id: '1517995317697916928', reason: 'invalid media 1 of tweet 1517995317697916928: extended_entities.media.0.type: Invalid option: expected one of "photo"|"video"|"animated_gif"' },
      { tweet_id: '1517995317697916928', reason: 'invalid media 2 of tweet 1517995317697916928: extended_entities.media.1.id_str: Invalid input: expected string, received undefined' },
      { tweet_id: '1517995317697916928', reason: 'invalid media 4 of tweet 1517995317697916928: extended_entities.media.3: Invalid input: expected object, received number' },
    ]);
    const compat = { id_str: '867473446648676352', extended_tweet: { extended_entities: { media: [{ ...good, sizes: { large: { w: '1' } } }] } } };
    expect(normalizeTweet(compat).problems).toEqual([
      {
        tweet_id: '867473446648676352',
        reason:
          'invalid media 1 of tweet 867473446648676352: extended_tweet.extended_entities.media.0.sizes.large.w: Invalid input: expected number, received string; extended_tweet.extended_entities.media.0.sizes.large.h: Invalid input: expected number, received undefined',
      },
    ]);
    // Inside a retweet the text names the original, the record the reposting tweet.
    const retweet = { tweet_id: '1518000000000000000', retweet_status: { ...clone(seedTweets()[0] ?? {}), extended_entities: { media: [{ ...good, media_key: 'photo-1' }] } } };
    expect(normalizeTweet(retweet).problems).toEqual([
      { tweet_id: '1518000000000000000', reason: 'invalid media 1 of tweet 1517995317697916928: extended_entities.media.0.media_key: Invalid string: must match pattern /^\\d+_\\d+$/' },
    ]);
  });

  it('keeps a 19-digit id exact through parsing, the v2 object, the record and the file name', () => {
    const text = `{"tweet_id":"9223372036854775807","creation_date":"Sat Apr 23 22:34:21 +0000 2022","user":{"user_id":"1999999999999999999","username":"big"},
      "extended_entities":{"media":[{"id_str":"9223372036854775806","type":"photo","media_url_https":"https://pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg"}]}}`;
    expect(Number('9223372036854775807').toString()).not.toBe('9223372036854775807');
    const { items, problems } = normalizeTweet(JSON.parse(text));
    expect(problems).toEqual([]);
    const [item] = items;
    if (!item) throw new Error('no item');
    expect(item.media.media_key).toBe('3_9223372036854775806');
    expect(item.tweet).toEqual({ tweet_id: '9223372036854775807', created_at: '2022-04-23T22:34:21.000Z', author_id: '1999999999999999999', username: 'big' });
    expect(JSON.stringify(toRecord(item, 'planned'))).toBe(
      '{"media_key":"3_9223372036854775806","type":"photo","url":"https://pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg","tweet_id":"9223372036854775807","created_at":"2022-04-23T22:34:21.000Z","author_id":"1999999999999999999","username":"big","status":"planned"}',
    );
    expect(renderFilename('{tweet_id}_{n}_{media_key}.{ext}', item, 'jpg', undefined)).toBe('9223372036854775807_1_3_9223372036854775806.jpg');
  });
});
