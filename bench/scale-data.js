// @ts-check
/**
 * A synthetic archive of N media for `npm run bench:scale`, written the way the archiver writes
 * one (journal lines of the same shapes and sizes: page lines of 20 items with their marker and
 * paging state, then one line per saved file) plus an empty file on disk for each media item,
 * 10,000 to a folder. No run and no network: a million media take about a minute to make.
 * The API it pairs with (`startScaleApi`) answers page 1 with the newest archived tweets, so a
 * rerun finds nothing new: the idle nightly run.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export const USER = '96479162';
const PAGE = 20;
const EMPTY_SHA256 = createHash('sha256').digest('hex');
/** The newest synthetic tweet; each older one a second before it. */
const NEWEST = 1_700_000_000_000_000_000n;

/** Tweet number `i` (0 is the newest): its snowflake id and its media's. */
function ids(/** @type {number} */ i) {
  const tweet = NEWEST - BigInt(i) * (1000n << 22n);
  return { tweet: tweet.toString(), media: (tweet - 7n).toString() };
}

function created(/** @type {string} */ tweetId) {
  return new Date(Number((BigInt(tweetId) >> 22n) + 1288834974657n)).toISOString();
}

/** The media item the normalizer would make of tweet `i`: about 600 bytes of JSON. */
function itemOf(/** @type {number} */ i) {
  const { tweet, media } = ids(i);
  return {
    media: { media_key: `3_${media}`, type: 'photo', url: `https://pbs.twimg.com/media/F${media.slice(-11)}.jpg`, width: 2048, height: 1536, alt_text: `Synthetic photo number ${i} of the scale benchmark` },
    tweet: { tweet_id: tweet, created_at: created(tweet), author_id: USER, username: 'scalebench' },
    n: 1,
    availability: 'Available',
  };
}

/** Where tweet `i`'s file lives under --out. */
function pathOf(/** @type {number} */ i) {
  return `s/${Math.floor(i / 10_000)}/${ids(i).tweet}_1.jpg`;
}

/** The tweet as the API sends it (what page 1 of the idle rerun shows). */
export function apiTweet(/** @type {number} */ i) {
  const { tweet, media } = ids(i);
  const url = `https://pbs.twimg.com/media/F${media.slice(-11)}.jpg`;
  return {
    tweet_id: tweet,
    creation_date: new Date(Number((BigInt(tweet) >> 22n) + 1288834974657n)).toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) (.*) GMT$/, '$1 $3 $2 $5 +0000 $4'),
    text: `synthetic ${i}`,
    user: { user_id: USER, username: 'scalebench', creation_date: 'Sun Dec 13 03:52:21 +0000 2009' },
    extended_entities: { media: [{ id_str: media, media_key: `3_${media}`, type: 'photo', media_url_https: url, ext_media_availability: { status: 'Available' }, original_info: { width: 2048, height: 1536 } }] },
  };
}

/**
 * Write the archive of `count` media into `out` (which must not exist yet). `format` 1 writes
 * the journal as the archiver before the scale work did (for the baseline build).
 * @param {string} out @param {number} count @param {{ format?: 1 | 2, files?: boolean }} [options]
 */
export function makeArchive(out, count, options = {}) {
  const format = options.format ?? 2;
  const state = path.join(out, '.x-media-dump');
  fs.mkdirSync(state, { recursive: true });
  const fd = fs.openSync(path.join(state, 'journal.jsonl'), 'w');
  /** @type {string[]} */
  let buffered = [];
  const line = (/** @type {unknown} */ entry) => {
    buffered.push(JSON.stringify(entry));
    if (buffered.length >= 2000) flush();
  };
  const flush = () => {
    fs.writeSync(fd, `${buffered.join('\n')}\n`);
    buffered = [];
  };
  line(format === 2 ? { k: 'format', v: 2, epoch: `bench-${count}` } : { k: 'format', v: 1 });
  const pages = Math.ceil(count / PAGE);
  const head = ids(0).tweet;
  for (let p = 0; p < pages; p++) {
    const items = [];
    for (let i = p * PAGE; i < Math.min(count, (p + 1) * PAGE); i++) items.push({ k: 'item', item: itemOf(i) });
    const last = p === pages - 1;
    const scan = { head, gaps: last ? [] : [{ token: `bench-${USER}-${(p + 1) * PAGE}` }], complete: last, pages: p + 1 };
    const marker = format === 2 ? [{ k: 'page', user_id: USER, seq: p + 1, newest: ids(p * PAGE).tweet }] : [];
    line({ k: 'tx', entries: [...marker, ...items, { k: 'scan', user_id: USER, scan }] });
  }
  for (let i = 0; i < count; i++) {
    const file = { media_key: `3_${ids(i).media}`, path: pathOf(i), bytes: 0, sha256: EMPTY_SHA256, source_url: `https://pbs.twimg.com/media/F${ids(i).media.slice(-11)}?format=jpg&name=orig`, quality: 'orig' };
    line({ k: 'file', file });
  }
  flush();
  fs.closeSync(fd);
  if (options.files === false) return;
  for (let folder = 0; folder * 10_000 < count; folder++) fs.mkdirSync(path.join(out, 's', String(folder)), { recursive: true });
  for (let i = 0; i < count; i++) fs.closeSync(fs.openSync(path.join(out, pathOf(i)), 'w'));
}

/**
 * agntdata's API for the idle rerun: page 1 holds the 20 newest archived tweets and no token.
 * @returns {Promise<{ apiBase: string, host: string, requests: () => number, close: () => Promise<void> }>}
 */
export async function startScaleApi() {
  let requests = 0;
  const page = JSON.stringify({ results: Array.from({ length: PAGE }, (_, i) => apiTweet(i)), continuation_token: '' });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(page)) });
      res.end(page);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  const port = address !== null && typeof address === 'object' ? address.port : 0;
  return {
    apiBase: `http://127.0.0.1:${port}/v1/x`,
    host: `127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

/**
 * For the first-run throughput: an API with `count` one-photo tweets in pages of 100, and a CDN
 * that answers every photo with the same small real JPEG (no latency, no cap: the client's own
 * cost per file is what is measured).
 * @param {number} count
 * @param {Buffer} jpeg
 */
export async function startThroughputServers(count, jpeg) {
  const listen = async (/** @type {http.Server} */ server) => {
    await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
    const address = server.address();
    return address !== null && typeof address === 'object' ? address.port : 0;
  };
  const cdn = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(jpeg.length) });
    res.end(jpeg);
  });
  const cdnPort = await listen(cdn);
  const tweetAt = (/** @type {number} */ i) => {
    const tweet = apiTweet(i);
    const media = tweet.extended_entities.media[0];
    if (media) media.media_url_https = media.media_url_https.replace('https://pbs.twimg.com/', `http://127.0.0.1:${cdnPort}/pbs.twimg.com/`);
    return tweet;
  };
  const api = http.createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const token = /"continuation_token"\s*:\s*"(\d+)"/.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
      const from = token === undefined ? 0 : Number(token);
      const to = Math.min(count, from + 100);
      const body = JSON.stringify({ results: Array.from({ length: to - from }, (_, k) => tweetAt(from + k)), continuation_token: to < count ? String(to) : '' });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
  });
  const apiPort = await listen(api);
  const close = (/** @type {http.Server} */ server) => new Promise((resolve) => {
    server.close(() => resolve(undefined));
    server.closeAllConnections();
  });
  return {
    apiBase: `http://127.0.0.1:${apiPort}/v1/x`,
    cdnHost: `127.0.0.1:${cdnPort}`,
    close: async () => {
      await close(api);
      await close(cdn);
    },
  };
}
