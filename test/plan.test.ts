import { describe, expect, it } from 'vitest';
import { photoSources, planItem, rankMp4Variants, type PlanOptions } from '../src/media/plan.js';
import { MEDIA_TYPES, type Media, type MediaItem, type MediaType, type Variant } from '../src/types.js';

/** `_(input, expected)`: one table row, one line (antfu/ni style). */
const photo = (url: string, ext: string | undefined, ...expected: string[]) => () => {
  const { sources, ext: got } = photoSources(url);
  expect(sources.map((s) => `${s.quality} ${s.url}`)).toEqual(expected);
  expect(got).toBe(ext);
};

describe('photoSources', () => {
  const sizes = (base: string, format: string, given: string) => [
    `orig ${base}?format=${format}&name=orig`,
    `4096x4096 ${base}?format=${format}&name=4096x4096`,
    `large ${base}?format=${format}&name=large`,
    `as-given ${given}`,
  ];
  const X = 'https://pbs.twimg.com/media/FREAsbkXIAYiaVV';
  it('jpg', photo(`${X}.jpg`, 'jpg', ...sizes(X, 'jpg', `${X}.jpg`)));
  it('png', photo(`${X}.png`, 'png', ...sizes(X, 'png', `${X}.png`)));
  it('webp', photo(`${X}.webp`, 'webp', ...sizes(X, 'webp', `${X}.webp`)));
  it('upper-case extension', photo(`${X}.PNG`, 'png', ...sizes(X, 'png', `${X}.PNG`)));
  it('jpeg is saved as .jpg', photo(`${X}.jpeg`, 'jpg', ...sizes(X, 'jpeg', `${X}.jpeg`)));
  it('already ?format= and a size', photo(`${X}?format=png&name=small`, 'png', ...sizes(X, 'png', `${X}?format=png&name=small`)));
  it('already ?format=, no size', photo(`${X}?format=webp`, 'webp', ...sizes(X, 'webp', `${X}?format=webp`)));
  it('http scheme kept', photo('http://pbs.twimg.com/media/A.jpg', 'jpg', ...sizes('http://pbs.twimg.com/media/A', 'jpg', 'http://pbs.twimg.com/media/A.jpg')));
  it('host and port kept', photo('http://127.0.0.1:4567/pbs.twimg.com/media/A.jpg', 'jpg', ...sizes('http://127.0.0.1:4567/pbs.twimg.com/media/A', 'jpg', 'http://127.0.0.1:4567/pbs.twimg.com/media/A.jpg')));
  it('unknown extension: as given', photo(`${X}.bmp`, undefined, `as-given ${X}.bmp`));
  it('no extension: as given', photo(X, undefined, `as-given ${X}`));
  it('not a URL: as given', photo('media/FREAsbkXIAYiaVV.jpg', undefined, 'as-given media/FREAsbkXIAYiaVV.jpg'));
});

const V = 'https://video.twimg.com/ext_tw_video/1/pu';
const mp4 = (bitRate: number | undefined, path: string): Variant => ({ ...(bitRate === undefined ? {} : { bit_rate: bitRate }), content_type: 'video/mp4', url: `${V}/vid/${path}` });
const hls: Variant = { content_type: 'application/x-mpegURL', url: `${V}/pl/list.m3u8` };
const dash: Variant = { content_type: 'application/dash+xml', url: `${V}/pl/list.mpd` };
const webm: Variant = { bit_rate: 9_000_000, content_type: 'video/webm', url: `${V}/vid/1920x1080/a.webm` };
const rank = (variants: Variant[], ...expected: string[]) => () => expect(rankMp4Variants(variants).map((v) => v.url.slice(V.length + 5))).toEqual(expected);

describe('rankMp4Variants', () => {
  it('highest bit_rate first, m3u8 listed first never chosen', rank([hls, mp4(832000, '640x360/b.mp4'), mp4(2176000, '1280x720/c.mp4'), mp4(256000, '320x180/a.mp4')], '1280x720/c.mp4', '640x360/b.mp4', '320x180/a.mp4'));
  it('tie: the larger /vid/WxH/ first', rank([mp4(832000, '640x360/a.mp4'), mp4(832000, '1280x720/b.mp4')], '1280x720/b.mp4', '640x360/a.mp4'));
  it('tie, resolution after a codec folder', rank([mp4(832000, 'avc1/576x1280/a.mp4'), mp4(832000, 'avc1/720x1600/b.mp4')], 'avc1/720x1600/b.mp4', 'avc1/576x1280/a.mp4'));
  it('tie without any resolution keeps the order', rank([mp4(0, 'a.mp4'), mp4(0, 'b.mp4')], 'a.mp4', 'b.mp4'));
  it('webm and DASH never, even at a higher rate', rank([webm, dash, mp4(320000, '320x180/a.mp4')], '320x180/a.mp4'));
  it('an mp4 without bit_rate comes last', rank([mp4(undefined, '1920x1080/x.mp4'), mp4(0, '498x342/g.mp4')], '498x342/g.mp4', '1920x1080/x.mp4'));
  it('HLS only: nothing', rank([hls, dash]));
  it('no variants: nothing', rank([]));
});

const ALL: PlanOptions = { types: new Set(MEDIA_TYPES), includeReposts: true, allowHosts: ['pbs.twimg.com', 'video.twimg.com'] };
const PHOTO: Media = { media_key: '3_1', type: 'photo', url: 'https://pbs.twimg.com/media/A.jpg' };
const VIDEO: Media = { media_key: '7_2', type: 'video', variants: [hls, mp4(2176000, '1280x720/c.mp4')] };
const item = (media: Media, created?: string, extra: Partial<MediaItem> = {}): MediaItem => ({
  media,
  tweet: { tweet_id: '10', ...(created ? { created_at: created } : {}) },
  n: 1,
  ...extra,
});
const day = (d: string) => new Date(`${d}T00:00:00.000Z`);
/** The plan as one string: what it would fetch first, or why not. */
const plan = (target: MediaItem, options: Partial<PlanOptions>, expected: string) => () => {
  const p = planItem(target, { ...ALL, ...options });
  expect(p.kind === 'download' ? `${p.sources[0]?.quality} .${p.ext}` : p.reason).toBe(expected);
};
const types = (...list: MediaType[]) => ({ types: new Set(list) });

describe('planItem', () => {
  it('photo: orig', plan(item(PHOTO), {}, 'orig .jpg'));
  it('video: best mp4', plan(item(VIDEO), {}, 'mp4 2176000bps 1280x720 .mp4'));
  it('types: photo left out', plan(item(PHOTO), types('video', 'animated_gif'), 'filtered: type photo'));
  it('types: video kept', plan(item(VIDEO), types('video'), 'mp4 2176000bps 1280x720 .mp4'));
  it('types: gif left out', plan(item({ ...VIDEO, type: 'animated_gif' }), types('photo', 'video'), 'filtered: type animated_gif'));
  it('reposts kept by default', plan(item(PHOTO, undefined, { tweet: { tweet_id: '10', source_tweet_id: '9' } }), {}, 'orig .jpg'));
  it('--no-retweets: repost left out', plan(item(PHOTO, undefined, { tweet: { tweet_id: '10', source_tweet_id: '9' } }), { includeReposts: false }, 'filtered: repost'));
  it('--no-retweets: own media kept', plan(item(PHOTO), { includeReposts: false }, 'orig .jpg'));
  it('since: first instant of the day kept', plan(item(PHOTO, '2022-04-23T00:00:00.000Z'), { since: day('2022-04-23') }, 'orig .jpg'));
  it('since: the day before left out', plan(item(PHOTO, '2022-04-22T23:59:59.999Z'), { since: day('2022-04-23') }, 'filtered: before --since'));
  it('until: last instant of the day kept', plan(item(PHOTO, '2022-04-23T23:59:59.999Z'), { until: day('2022-04-23') }, 'orig .jpg'));
  it('until: the day after left out', plan(item(PHOTO, '2022-04-24T00:00:00.000Z'), { until: day('2022-04-23') }, 'filtered: after --until'));
  it('since = until: that one UTC day', plan(item(PHOTO, '2022-04-23T12:00:00.000Z'), { since: day('2022-04-23'), until: day('2022-04-23') }, 'orig .jpg'));
  it('undated: kept by date filters', plan(item(PHOTO), { since: day('2022-04-23'), until: day('2022-04-23') }, 'orig .jpg'));
  it('Available', plan(item(PHOTO, undefined, { availability: 'Available' }), {}, 'orig .jpg'));
  it('Unavailable: skipped with the status', plan(item(PHOTO, undefined, { availability: 'Unavailable' }), {}, 'unavailable: Unavailable'));
  it('any other status: skipped with it', plan(item(VIDEO, undefined, { availability: 'Deleted' }), {}, 'unavailable: Deleted'));
  it('filters come before availability', plan(item(PHOTO, undefined, { availability: 'Unavailable' }), types('video'), 'filtered: type photo'));
  it('HLS only', plan(item({ ...VIDEO, variants: [hls] }), {}, 'hls-only'));
  it('HLS and DASH only', plan(item({ ...VIDEO, variants: [hls, dash] }), {}, 'hls-only'));
  it('webm only', plan(item({ ...VIDEO, variants: [webm] }), {}, 'no-mp4'));
  it('no variants', plan(item({ media_key: '7_2', type: 'video' }), {}, 'no-variants'));
  it('photo without url', plan(item({ media_key: '3_1', type: 'photo' }), {}, 'no-url'));
  it('gif: its mp4 at bit rate 0', plan(item({ media_key: '16_3', type: 'animated_gif', variants: [mp4(0, 'x.mp4')] }), {}, 'mp4 0bps .mp4'));
});

const LOCAL = 'http://127.0.0.1:4567/pbs.twimg.com/media/A.jpg';
const offList = (host: string) => `host ${host} is not on the allowlist (add it with --allow-host ${host})`;

describe('planItem: only http(s) URLs on an allowed host', () => {
  it('photo: host off the allowlist', plan(item({ ...PHOTO, url: 'https://evil.example/media/A.jpg' }), {}, `url: ${offList('evil.example')}`));
  it('photo: javascript: URL', plan(item({ ...PHOTO, url: 'javascript:alert(1)' }), {}, 'url: not an http(s) URL (javascript:)'));
  it('photo: data: URL', plan(item({ ...PHOTO, url: 'data:image/jpeg;base64,/9j/' }), {}, 'url: not an http(s) URL (data:)'));
  it('photo: not a URL', plan(item({ ...PHOTO, url: 'media/A.jpg' }), {}, 'url: not an http(s) URL'));
  it('photo: host:port entry, same port', plan(item({ ...PHOTO, url: LOCAL }), { allowHosts: ['127.0.0.1:4567'] }, 'orig .jpg'));
  it('photo: host:port entry, other port', plan(item({ ...PHOTO, url: LOCAL }), { allowHosts: ['127.0.0.1:4568'] }, `url: ${offList('127.0.0.1:4567')}`));
  it('photo: host entry, any port', plan(item({ ...PHOTO, url: LOCAL }), { allowHosts: ['127.0.0.1'] }, 'orig .jpg'));
  it('photo: host names compare case-blind', plan(item({ ...PHOTO, url: 'https://PBS.twimg.com/media/A.jpg' }), {}, 'orig .jpg'));
  it('video: a lesser mp4 off the allowlist holds the item back', plan(item({ ...VIDEO, variants: [hls, mp4(2176000, '1280x720/c.mp4'), { ...mp4(256000, 'x'), url: 'https://cdn.example/a.mp4' }] }), {}, `variants.2.url: ${offList('cdn.example')}`));
  it('video: an ftp: variant', plan(item({ ...VIDEO, variants: [{ ...mp4(1, 'x'), url: 'ftp://video.twimg.com/a.mp4' }] }), {}, 'variants.0.url: not an http(s) URL (ftp:)'));
  it('video: HLS off the allowlist is still just hls-only', plan(item({ ...VIDEO, variants: [{ ...hls, url: 'https://cdn.example/a.m3u8' }] }), {}, 'hls-only'));
  it('filters come before the allowlist', plan(item({ ...PHOTO, url: 'javascript:alert(1)' }), types('video'), 'filtered: type photo'));
});

describe('planItem sources', () => {
  it('lists every mp4 best first, each falling back on 404', () => {
    const p = planItem(item({ ...VIDEO, variants: [hls, mp4(256000, '320x180/a.mp4'), mp4(2176000, '1280x720/c.mp4')] }), ALL);
    expect(p).toEqual({
      kind: 'download',
      item: item({ ...VIDEO, variants: [hls, mp4(256000, '320x180/a.mp4'), mp4(2176000, '1280x720/c.mp4')] }),
      ext: 'mp4',
      sources: [
        { url: `${V}/vid/1280x720/c.mp4`, quality: 'mp4 2176000bps 1280x720', fallbackOn404: true },
        { url: `${V}/vid/320x180/a.mp4`, quality: 'mp4 256000bps 320x180', fallbackOn404: true },
      ],
    });
  });
});
