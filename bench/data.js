// @ts-check
/**
 * The benchmark's data: a fixed-seed mix of media files, the tweets that name them, and the
 * bytes the fake CDN serves for them. Everything is derived from a seed, so every run (and every
 * machine) sees the same archive; nothing larger than one 2 MiB block is ever held in memory.
 */
import { createHash } from 'node:crypto';

/** A seeded PRNG (mulberry32): uniform in [0, 1). */
export function prng(/** @type {number} */ seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BLOCK = 1 << 20;

/**
 * 1 MiB of pseudo-random bytes, twice in a row: any run of up to 1 MiB starting anywhere in the
 * first copy is a subarray, so serving a file never copies or allocates its bytes.
 */
export const DOUBLE_BLOCK = (() => {
  const buf = Buffer.allocUnsafe(2 * BLOCK);
  const next = prng(0x5eed);
  for (let i = 0; i < BLOCK; i += 4) buf.writeUInt32LE(Math.floor(next() * 4294967296), i);
  buf.copy(buf, BLOCK, 0, BLOCK);
  return buf;
})();

/** Where file `index`'s byte 0 sits in the block: files differ by a rotation. */
export function blockShift(/** @type {number} */ index) {
  return (Math.imul(index + 1, 2654435761) >>> 12) & (BLOCK - 1);
}

/**
 * What every file starts with, as the CDN's real ones do: the client refuses a photo that is not
 * a JPEG (PNG, GIF, WebP) and a video that is not an MP4 (`ftyp` box) before keeping it.
 */
const SIGNATURES = {
  photo: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]),
  video: Buffer.from([0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]),
};

/**
 * Bytes `offset … offset+length-1` of file `index`, as a view into {@link DOUBLE_BLOCK}; the few
 * that overlap the file's signature come in a small copy. `length` must be at most 1 MiB.
 * @param {number} index
 * @param {number} offset
 * @param {number} length
 * @param {'photo' | 'video'} type
 */
export function fileSlice(index, offset, length, type) {
  const start = (offset + blockShift(index)) & (BLOCK - 1);
  const view = DOUBLE_BLOCK.subarray(start, start + length);
  const signature = SIGNATURES[type];
  if (offset >= signature.length) return view;
  const head = Buffer.from(view.subarray(0, Math.min(length, signature.length - offset)));
  signature.copy(head, 0, offset, offset + head.length);
  return head.length === length ? head : Buffer.concat([head, view.subarray(head.length)]);
}

/** The sha256 the client must record for file `index` of `size` bytes. */
export function expectedSha256(/** @type {number} */ index, /** @type {number} */ size, /** @type {'photo' | 'video'} */ type) {
  const hash = createHash('sha256');
  for (let at = 0; at < size; at += BLOCK) hash.update(fileSlice(index, at, Math.min(BLOCK, size - at), type));
  return hash.digest('hex');
}

/**
 * @typedef {object} MediaFile
 * @property {number} index Unique across every data set the CDN serves (mixes into the bytes).
 * @property {'photo' | 'video'} type
 * @property {number} size Bytes.
 * @property {string} mediaId Snowflake of the media.
 * @property {string} cdnPath The path the CDN serves it at, e.g. `/pbs.twimg.com/media/<name>.jpg`.
 * @property {string} requestPath The path (and query) the client asks for (photos: `?format=jpg&name=orig`).
 * @property {string} fileName The name our CLI saves it under (`<tweet_id>_<n>.<ext>`).
 */

/**
 * @typedef {object} DataSet
 * @property {string} userId
 * @property {string} username
 * @property {unknown[]} tweets Newest first, as the API pages them.
 * @property {MediaFile[]} files In the order the API names them.
 */

const MB = 1_000_000;
/** 2024-06-01T00:00:00Z: the newest tweet of every data set; older ones go back an hour each. */
const NEWEST_MS = 1_717_200_000_000;
const SNOWFLAKE_EPOCH_MS = 1_288_834_974_657n;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** X's date format, as agntdata sends it: `Sat Apr 23 22:34:21 +0000 2022`. */
function twitterDate(/** @type {number} */ ms) {
  const d = new Date(ms);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000 ${d.getUTCFullYear()}`;
}

/** A snowflake for a time, with a sequence number to keep ids distinct. */
function snowflake(/** @type {number} */ ms, /** @type {number} */ seq) {
  return ((BigInt(ms) - SNOWFLAKE_EPOCH_MS) << 22n) | BigInt(seq & 0x3fffff);
}

/** X's photo file names start with the media id's 8 bytes in base64url. */
function photoName(/** @type {bigint} */ id, /** @type {() => number} */ rand) {
  const bytes = Buffer.alloc(11);
  bytes.writeBigUInt64BE(id, 0);
  for (let i = 8; i < 11; i++) bytes[i] = Math.floor(rand() * 256);
  return bytes.toString('base64url');
}

/** Log-uniform in [lo, hi]: many small files, a few large ones, as on a real timeline. */
function logUniform(/** @type {() => number} */ rand, /** @type {number} */ lo, /** @type {number} */ hi) {
  return Math.round(Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo))));
}

/**
 * @typedef {object} DataSetOptions
 * @property {string} userId
 * @property {string} username
 * @property {number} seed
 * @property {number} firstIndex The first file index (data sets on one CDN must not overlap).
 * @property {number} [mediaCount] Stop once this many media files exist.
 * @property {number} [tweetCount] Stop once this many tweets exist.
 * @property {number} [videoShare] Probability that a tweet carries a video (default 0.2).
 * @property {[number, number]} [photoBytes] Photo sizes, log-uniform (default 100 KB – 4 MB).
 * @property {[number, number]} [videoBytes] Video sizes, log-uniform (default 2 – 60 MB).
 * @property {number[]} [fixedVideoBytes] Make exactly these videos (one tweet each), nothing else.
 */

/**
 * A user's timeline: tweets newest first with one video or 1–4 photos each, in agntdata's shape,
 * media URLs on `cdnOrigin`. Each video's highest mp4 variant is the file; its bit rate times its
 * duration is the file's size, as on X.
 * @param {DataSetOptions} options
 * @param {string} cdnOrigin e.g. `http://127.0.0.1:40123`
 * @returns {DataSet}
 */
export function makeDataSet(options, cdnOrigin) {
  const rand = prng(options.seed);
  const videoShare = options.videoShare ?? 0.2;
  const [photoLo, photoHi] = options.photoBytes ?? [100_000, 4 * MB];
  const [videoLo, videoHi] = options.videoBytes ?? [2 * MB, 60 * MB];
  const fixed = options.fixedVideoBytes;
  const maxMedia = options.mediaCount ?? (fixed ? fixed.length : Number.POSITIVE_INFINITY);
  const maxTweets = options.tweetCount ?? Number.POSITIVE_INFINITY;
  const user = { user_id: options.userId, username: options.username, name: options.username };
  /** @type {unknown[]} */
  const tweets = [];
  /** @type {MediaFile[]} */
  const files = [];
  let index = options.firstIndex;

  while (files.length < maxMedia && tweets.length < maxTweets) {
    const at = NEWEST_MS - tweets.length * 3_600_000;
    const tweetId = snowflake(at, 0).toString();
    const isVideo = fixed !== undefined || rand() < videoShare;
    const r = rand();
    const photos = r < 0.7 ? 1 : r < 0.85 ? 2 : r < 0.93 ? 3 : 4;
    const count = isVideo ? 1 : Math.min(photos, maxMedia - files.length);
    /** @type {unknown[]} */
    const media = [];
    for (let n = 1; n <= count; n++) {
      const id = snowflake(at - 5_000, n);
      const mediaId = id.toString();
      if (isVideo) {
        const size = fixed?.[files.length] ?? logUniform(rand, videoLo, videoHi);
        const bitrate = 2_176_000;
        const durationMs = Math.max(1000, Math.round((size * 8 * 1000) / bitrate));
        const base = `/video.twimg.com/ext_tw_video/${mediaId}/pu/vid`;
        const name = photoName(id, rand);
        const cdnPath = `${base}/1280x720/${name}.mp4`;
        files.push({ index: index++, type: 'video', size, mediaId, cdnPath, requestPath: `${cdnPath}?tag=12`, fileName: `${tweetId}_${n}.mp4` });
        media.push({
          id_str: mediaId,
          media_key: `7_${mediaId}`,
          type: 'video',
          media_url_https: `${cdnOrigin}/pbs.twimg.com/ext_tw_video_thumb/${mediaId}/pu/img/${name}.jpg`,
          original_info: { width: 1280, height: 720 },
          ext_media_availability: { status: 'Available' },
          video_info: {
            aspect_ratio: [16, 9],
            duration_millis: durationMs,
            variants: [
              { content_type: 'application/x-mpegURL', url: `${cdnOrigin}/video.twimg.com/ext_tw_video/${mediaId}/pu/pl/${name}.m3u8?tag=12` },
              { bitrate: 632_000, content_type: 'video/mp4', url: `${cdnOrigin}${base}/640x360/${name}.mp4?tag=12` },
              { bitrate, content_type: 'video/mp4', url: `${cdnOrigin}${cdnPath}?tag=12` },
            ],
          },
        });
      } else {
        const size = logUniform(rand, photoLo, photoHi);
        const name = photoName(id, rand);
        const cdnPath = `/pbs.twimg.com/media/${name}.jpg`;
        files.push({
          index: index++,
          type: 'photo',
          size,
          mediaId,
          cdnPath,
          requestPath: `/pbs.twimg.com/media/${name}?format=jpg&name=orig`,
          fileName: `${tweetId}_${n}.jpg`,
        });
        media.push({
          id_str: mediaId,
          media_key: `3_${mediaId}`,
          type: 'photo',
          media_url_https: `${cdnOrigin}${cdnPath}`,
          original_info: { width: 4096, height: 3072 },
          ext_media_availability: { status: 'Available' },
          sizes: { large: { w: 2048, h: 1536, resize: 'fit' }, thumb: { w: 150, h: 150, resize: 'crop' } },
        });
      }
    }
    tweets.push({
      tweet_id: tweetId,
      creation_date: twitterDate(at),
      text: `bench tweet ${tweets.length + 1}`,
      user,
      retweet: false,
      retweet_tweet_id: null,
      timestamp: Math.floor(at / 1000),
      extended_entities: { media },
    });
  }
  return { userId: options.userId, username: options.username, tweets, files };
}

/**
 * The shortest wall time 8 (or `connections`) capped connections could reach: each file costs
 * the latency plus its size over the cap; longest first, each to the connection free soonest.
 * @param {readonly number[]} sizes
 * @param {{ connections: number, latencyMs: number, capBytesPerSec: number }} shape
 * @returns {number} Seconds.
 */
export function idealSeconds(sizes, shape) {
  const costs = sizes.map((s) => shape.latencyMs / 1000 + s / shape.capBytesPerSec).sort((a, b) => b - a);
  const loads = new Array(shape.connections).fill(0);
  for (const cost of costs) {
    let min = 0;
    for (let i = 1; i < loads.length; i++) if (loads[i] < loads[min]) min = i;
    loads[min] += cost;
  }
  return Math.max(...loads);
}

/**
 * The same model with the files taken in the order given (each to the connection free
 * soonest): what any client that fetches in the API's order reaches at best, curl included.
 * @param {readonly number[]} sizes
 * @param {{ connections: number, latencyMs: number, capBytesPerSec: number }} shape
 * @returns {number} Seconds.
 */
export function inOrderSeconds(sizes, shape) {
  const loads = new Array(shape.connections).fill(0);
  for (const size of sizes) {
    let min = 0;
    for (let i = 1; i < loads.length; i++) if (loads[i] < loads[min]) min = i;
    loads[min] += shape.latencyMs / 1000 + size / shape.capBytesPerSec;
  }
  return Math.max(...loads);
}
