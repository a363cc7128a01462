import { createHash } from 'node:crypto';

/** Synthetic agntdata tweets and the CDN files they name, for tests that need more than the seed. */

export interface SyntheticTweet {
  tweet: Record<string, unknown>;
  /** `"<host>/<path>"` → bytes, the files the replay server must serve for it. */
  files: Map<string, Buffer>;
}

/**
 * The signatures a file must start with to be taken for what it claims to be: a JPEG's SOI and
 * APP0 markers; an MP4's leading `ftyp` box (size, `ftyp`, brand `isom`).
 */
export const JPEG_START = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
export const MP4_START = Buffer.from([0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]);

/**
 * Deterministic bytes of a given size (distinct per seed); `kind` puts a JPEG or MP4 signature
 * at the start, as the CDN's real files have.
 */
export function bytesFor(seed: string, size: number, kind?: 'jpeg' | 'mp4'): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let i = 0; i < size; i += block.length) {
    block.copy(out, i);
    block = createHash('sha256').update(block).digest();
  }
  if (kind !== undefined) (kind === 'jpeg' ? JPEG_START : MP4_START).copy(out, 0);
  return out;
}

/** A small JPEG-signed body whose bytes after the signature are `text` (for hand-made photos). */
export function jpegOf(text: string): Buffer {
  return Buffer.concat([JPEG_START, Buffer.from(text)]);
}

/** Tweet creation date for a snowflake id, in agntdata's format. */
function creationDate(id: bigint): string {
  const ms = Number((id >> 22n) + 1288834974657n);
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 ${d.getUTCFullYear()}`;
}

/** A tweet with `photos` photos; media ids are the tweet id plus 1..n. */
export function photoTweet(tweetId: string, photos = 1, size = 2048, userId = '96479162'): SyntheticTweet {
  const files = new Map<string, Buffer>();
  const media = Array.from({ length: photos }, (_, i) => {
    const mediaId = (BigInt(tweetId) - 1000n + BigInt(i)).toString();
    const name = `P${mediaId}`;
    files.set(`pbs.twimg.com/media/${name}.jpg`, bytesFor(name, size, 'jpeg'));
    return {
      id_str: mediaId,
      media_key: `3_${mediaId}`,
      type: 'photo',
      media_url_https: `https://pbs.twimg.com/media/${name}.jpg`,
      ext_media_availability: { status: 'Available' },
      original_info: { width: 1200, height: 800 },
      sizes: { large: { w: 1200, h: 800, resize: 'fit' } },
    };
  });
  return { tweet: tweetWith(tweetId, userId, media), files };
}

/** A video tweet: an m3u8 listed first, then mp4s at three bitrates. */
export function videoTweet(tweetId: string, size = 4096, userId = '96479162'): SyntheticTweet {
  const mediaId = (BigInt(tweetId) - 1000n).toString();
  const base = `https://video.twimg.com/ext_tw_video/${mediaId}/pu`;
  const best = `ext_tw_video/${mediaId}/pu/vid/1280x720/best.mp4`;
  const files = new Map([[`video.twimg.com/${best}`, bytesFor(best, size, 'mp4')]]);
  const media = [
    {
      id_str: mediaId,
      media_key: `7_${mediaId}`,
      type: 'video',
      media_url_https: `https://pbs.twimg.com/ext_tw_video_thumb/${mediaId}/pu/img/thumb.jpg`,
      original_info: { width: 1280, height: 720 },
      video_info: {
        duration_millis: 12345,
        variants: [
          { content_type: 'application/x-mpegURL', url: `${base}/pl/list.m3u8` },
          { bitrate: 832000, content_type: 'video/mp4', url: `${base}/vid/640x360/mid.mp4` },
          { bitrate: 2176000, content_type: 'video/mp4', url: `https://video.twimg.com/${best}` },
          { bitrate: 256000, content_type: 'video/mp4', url: `${base}/vid/320x180/low.mp4` },
        ],
      },
    },
  ];
  return { tweet: tweetWith(tweetId, userId, media), files };
}

function tweetWith(tweetId: string, userId: string, media: unknown[]): Record<string, unknown> {
  return {
    tweet_id: tweetId,
    creation_date: creationDate(BigInt(tweetId)),
    text: 'synthetic',
    media_url: null,
    video_url: null,
    user: { user_id: userId, username: `user${userId}` },
    retweet: false,
    extended_entities: { media },
    retweet_status: null,
  };
}

/** Pages of `perPage` tweets with tokens `T2`, `T3`, … and all their files. */
export function paginate(tweets: readonly SyntheticTweet[], perPage: number, prefix = 'T'): { pages: unknown[]; media: Map<string, Buffer> } {
  const pages: unknown[] = [];
  for (let i = 0; i < tweets.length; i += perPage) {
    const last = i + perPage >= tweets.length;
    pages.push({
      results: tweets.slice(i, i + perPage).map((t) => t.tweet),
      continuation_token: last ? '' : `${prefix}${pages.length + 2}`,
    });
  }
  const media = new Map<string, Buffer>();
  for (const t of tweets) for (const [k, v] of t.files) media.set(k, v);
  return { pages, media };
}

/** Descending snowflake ids (newest first), spaced a second apart, starting below `start`. */
export function tweetIds(count: number, start = 1_700_000_000_000_000_000n): string[] {
  return Array.from({ length: count }, (_, i) => (start - BigInt(i) * (1000n << 22n)).toString());
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
