import { loadFixtureMedia, loadFixturePages, type RecordedRequest } from '../../fixtures/replay-server.js';

/** The seed user the replay server plays by default (fixtures/api/96479162), as the tests see it. */

export const USER = '96479162';
export const T1 = 'DAABCgABFu-OJkw___gKAAIVmAq8iZYgAggAAwAAAAIAAA'; // page 1's continuation token
export const T2 = 'DAABCgABFu-OJkw__-8KAAISl2Jz9RcQAAgAAwAAAAIAAA'; // page 2's

/** The seed's files: name under --out → CDN key, media key, tweet creation time, page. */
export const FILES: Record<string, { key: string; media: string; created: string; page: number }> = {
  '1517995317697916928_1.jpg': { key: 'pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg', media: '3_1517995312715079686', created: '2022-04-23T22:34:21Z', page: 1 },
  '1513801473074896899_1.jpg': { key: 'pbs.twimg.com/media/FQIaaadXMAQU4E8.jpg', media: '3_1513801465831305220', created: '2022-04-12T08:49:30Z', page: 1 },
  '1513260712587669517_1.jpg': { key: 'pbs.twimg.com/media/FQAulhzX0A8OtrC.jpg', media: '3_1513260697060364303', created: '2022-04-10T21:00:43Z', page: 2 },
  '1497526869406670848_1.jpg': { key: 'pbs.twimg.com/media/FMhIvohWYAMjGv3.jpg', media: '3_1497526859269038083', created: '2022-02-26T11:00:03Z', page: 2 },
  '1490431825918967810_1.jpg': { key: 'pbs.twimg.com/media/FK8T1ogX0AcWyo0.jpg', media: '3_1490431813810114567', created: '2022-02-06T21:06:52Z', page: 3 },
  '1401511472413487106_1.jpg': { key: 'pbs.twimg.com/media/E3MrPovWYAI64-i.jpg', media: '3_1401511456676405250', created: '2021-06-06T12:09:08Z', page: 3 },
  '1339647664338702336_1.mp4': { key: 'video.twimg.com/tweet_video/EpdichpWMAIPcr0.mp4', media: '16_1339647656373661698', created: '2020-12-17T19:04:27Z', page: 3 },
};
/** Every file name, sorted (as listFiles returns them). */
export const ALL = Object.keys(FILES).sort();
/** The one video (the animated_gif, saved as mp4): its name under --out and its CDN key. */
export const MP4_FILE = '1339647664338702336_1.mp4';
export const MP4 = FILES[MP4_FILE]?.key ?? '';

export const onPages = (...pages: number[]) => ALL.filter((name) => pages.includes(FILES[name]?.page ?? 0));
export const keysOf = (names: readonly string[]) => names.map((n) => FILES[n]?.key ?? n).sort();

/** The seed's pages as the replay server serves them (envelope and all): a fresh copy to change. */
export function seedServerPages(): Record<string, unknown[]> {
  return loadFixturePages();
}

/** The fixture pages as {results, token} (page 2's envelope opened). */
export function seedPages(): { results: Record<string, unknown>[]; token: string }[] {
  const pages = seedServerPages()[USER] ?? [];
  return pages.map((p) => {
    const body = p as { results?: Record<string, unknown>[]; continuation_token?: string; data?: { results: Record<string, unknown>[]; continuation_token: string } };
    const inner = body.data ?? { results: body.results ?? [], continuation_token: body.continuation_token ?? '' };
    return { results: inner.results, token: inner.continuation_token };
  });
}

/** A tweet shaped like the fixture's, with its own id, date and one photo. */
export function tweet(id: string, createdIso: string, photo: string): Record<string, unknown> {
  const copy = structuredClone(seedPages()[0]?.results[0]) ?? {};
  const url = `https://pbs.twimg.com/media/${photo}.jpg`;
  copy['tweet_id'] = id;
  copy['conversation_id'] = id;
  copy['creation_date'] = createdIso;
  copy['timestamp'] = Date.parse(createdIso) / 1000;
  copy['media_url'] = [url];
  const mediaId = (BigInt(id) - 5n).toString();
  copy['extended_entities'] = { media: [{ id_str: mediaId, media_key: `3_${mediaId}`, media_url_https: url, type: 'photo', ext_media_availability: { status: 'Available' } }] };
  return copy;
}

export function mediaWith(extra: Record<string, Buffer>): Map<string, Buffer> {
  const media = loadFixtureMedia();
  for (const [key, bytes] of Object.entries(extra)) media.set(key, bytes);
  return media;
}


/**
 * Which seed page a request asked for: 1, 2 (after T1), 3 (after T2), any other token by itself;
 * 0 for anything that is not a media page (the CDN, /user/details).
 */
export function pageOf(req: RecordedRequest): number | string {
  if (req.path === '/v1/x/user/medias') return 1;
  if (req.path !== '/v1/x/user/medias/continuation') return 0;
  return req.token === T1 ? 2 : req.token === T2 ? 3 : (req.token ?? 0);
}
