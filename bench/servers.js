// @ts-check
/**
 * The benchmark's stand-ins for X's media CDN and agntdata's API, on 127.0.0.1, each on a port
 * of its own (as on the internet, API and CDN are different origins, so the client's connection
 * pools do not mix). The CDN is shaped like the real one: a latency before the headers and a
 * bandwidth cap per connection, paced with a token bucket that honours backpressure. It serves
 * views into one pre-built block (see data.js), so it allocates nothing per chunk and leaves
 * the CPU to the client: on a 2-core machine they share it.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileSlice } from './data.js';

/** @typedef {import('./data.js').MediaFile} MediaFile */
/** @typedef {import('./data.js').DataSet} DataSet */

/**
 * @typedef {object} CdnShape
 * @property {number} latencyMs Delay before a response's headers.
 * @property {number} capBytesPerSec Per-connection bandwidth; Infinity for none.
 */

/**
 * What the CDN saw since the last reset. Times are `performance.now()` milliseconds.
 * @typedef {object} CdnStats
 * @property {number} requests
 * @property {number} notFound
 * @property {number} bytes Body bytes written.
 * @property {number} completed Responses whose whole body was written.
 * @property {number} busyMs Time with at least one response in flight (headers wait included).
 * @property {number} maxInFlight
 * @property {number | undefined} firstRequestAt
 * @property {number | undefined} lastEndAt
 */

/** Paced writes: 64 KB at 8 MB/s is one write per ~8 ms per connection. */
const PACED_CHUNK = 64 * 1024;
const FREE_CHUNK = 512 * 1024;
const BUCKET_CHUNKS = 4;

/** @param {http.Server} server @returns {Promise<number>} */
async function listen(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('bench server: no TCP address');
  return address.port;
}

/** @param {http.Server} server @returns {Promise<void>} */
function close(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** @returns {CdnStats} */
function emptyCdnStats() {
  return { requests: 0, notFound: 0, bytes: 0, completed: 0, busyMs: 0, maxInFlight: 0, firstRequestAt: undefined, lastEndAt: undefined };
}

/**
 * @param {CdnShape} initialShape
 */
export async function startCdn(initialShape) {
  /** @type {Map<string, MediaFile>} */
  const files = new Map();
  /** Mutable: phases of the benchmark change the shape between runs. */
  const shape = { ...initialShape };
  let stats = emptyCdnStats();
  let inFlight = 0;
  let busySince = 0;

  const server = http.createServer((req, res) => {
    const now = performance.now();
    stats.requests += 1;
    stats.firstRequestAt ??= now;
    if (inFlight++ === 0) busySince = now;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    res.once('close', () => {
      if (timer !== undefined) clearTimeout(timer);
      const end = performance.now();
      stats.lastEndAt = end;
      if (--inFlight === 0) stats.busyMs += end - busySince;
    });
    res.on('error', () => undefined);
    req.resume();

    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const file = files.get(q === -1 ? target : target.slice(0, q));
    const { latencyMs, capBytesPerSec } = shape;
    const perMs = capBytesPerSec / 1000;
    const capped = Number.isFinite(perMs);
    const chunk = capped ? PACED_CHUNK : FREE_CHUNK;
    let sent = 0;
    let tokens = 0;
    let last = 0;

    const pump = () => {
      timer = undefined;
      if (res.destroyed || file === undefined) return;
      if (capped) {
        // Late timers carry their tokens over; a long stall (backpressure) is not made up by a
        // burst of more than a few chunks.
        const t = performance.now();
        tokens = Math.min(tokens + (t - last) * perMs, BUCKET_CHUNKS * chunk);
        last = t;
      }
      while (sent < file.size) {
        const n = Math.min(chunk, file.size - sent);
        if (tokens < n) {
          timer = setTimeout(pump, Math.max(1, Math.ceil((n - tokens) / perMs)));
          return;
        }
        tokens -= n;
        const more = res.write(fileSlice(file.index, sent, n, file.type));
        sent += n;
        stats.bytes += n;
        if (!more) {
          res.once('drain', pump);
          return;
        }
      }
      stats.completed += 1;
      res.end();
    };

    const start = () => {
      timer = undefined;
      if (res.destroyed) return;
      if (file === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
        stats.notFound += 1;
        res.writeHead(file === undefined ? 404 : 405, { 'Content-Type': 'text/plain', 'Content-Length': '10' });
        res.end('Not Found\n');
        return;
      }
      res.writeHead(200, {
        'Content-Type': file.type === 'photo' ? 'image/jpeg' : 'video/mp4',
        'Content-Length': String(file.size),
        ETag: `"${file.index.toString(16)}-${file.size.toString(16)}"`,
        'Last-Modified': 'Sat, 01 Jun 2024 00:00:00 GMT',
        'Cache-Control': 'max-age=604800',
      });
      if (req.method === 'HEAD') {
        stats.completed += 1;
        res.end();
        return;
      }
      // The cap starts with the body: a file takes exactly size / cap, so the ideal is a bound.
      tokens = capped ? 0 : Number.POSITIVE_INFINITY;
      last = performance.now();
      pump();
    };

    if (latencyMs > 0) timer = setTimeout(start, latencyMs);
    else start();
  });
  server.keepAliveTimeout = 30_000;
  server.on('clientError', (_error, socket) => socket.destroy());
  const port = await listen(server);
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    host: `127.0.0.1:${port}`,
    shape,
    /** Serve these files at their request paths (and, for photos, at their plain paths too). */
    add(/** @type {readonly MediaFile[]} */ list) {
      for (const file of list) {
        files.set(file.requestPath.split('?')[0] ?? file.requestPath, file);
        files.set(file.cdnPath, file);
      }
    },
    /** The stats since the last reset; the busy time so far includes a stretch still open. */
    stats() {
      const open = inFlight > 0 ? performance.now() - busySince : 0;
      return { ...stats, busyMs: stats.busyMs + open };
    },
    reset() {
      stats = emptyCdnStats();
      if (inFlight > 0) busySince = performance.now();
    },
    close: () => close(server),
  };
}

/**
 * One API request as the fake API saw it.
 * @typedef {object} ApiRequest
 * @property {string} path
 * @property {string | undefined} userId
 * @property {number | undefined} limit
 * @property {string | undefined} token
 * @property {number} status
 * @property {number} startedAt `performance.now()` when it arrived.
 * @property {number} endedAt When its response was finished.
 */

/**
 * agntdata's `POST /user/medias` and `/user/medias/continuation`, with pages cut at the `limit`
 * the client asks for, a latency before every response, bearer auth, and a log of requests.
 * The last page carries no continuation token, so a history of N tweets costs ceil(N / limit).
 * @param {{ apiKey: string, latencyMs: number }} options
 */
export async function startApi(options) {
  /** @type {Map<string, DataSet>} */
  const users = new Map();
  const shape = { latencyMs: options.latencyMs };
  /** @type {ApiRequest[]} */
  const log = [];

  const server = http.createServer((req, res) => {
    const startedAt = performance.now();
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      // Digits as sent: a 19-digit id must not go through a JS number here either.
      const userId = /"user_id"\s*:\s*"?(\d+)/.exec(body)?.[1];
      const limitText = /"limit"\s*:\s*"?(\d+)/.exec(body)?.[1];
      const limit = limitText === undefined ? undefined : Number(limitText);
      const token = /"continuation_token"\s*:\s*"([^"]*)"/.exec(body)?.[1];
      /** @type {ApiRequest} */
      const entry = { path, userId, limit, token, status: 0, startedAt, endedAt: startedAt };
      log.push(entry);
      res.once('finish', () => (entry.endedAt = performance.now()));

      /** @param {number} status @param {unknown} json */
      const send = (status, json) => {
        entry.status = status;
        const text = JSON.stringify(json);
        res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
        res.end(text);
      };
      const answer = () => {
        if (req.headers.authorization !== `Bearer ${options.apiKey}`) return send(401, { success: false, error: { code: 'UNAUTHORIZED' } });
        const first = path === '/v1/x/user/medias';
        if (req.method !== 'POST' || (!first && path !== '/v1/x/user/medias/continuation')) {
          return send(404, { success: false, error: { code: 'NOT_FOUND' } });
        }
        const user = userId === undefined ? undefined : users.get(userId);
        if (user === undefined) return send(200, { results: [], continuation_token: '' });
        const pageSize = Math.min(100, Math.max(1, limit ?? 20));
        let offset = 0;
        if (!first) {
          const m = token === undefined ? null : /^bench-(\d+)-(\d+)$/.exec(token);
          if (m === null || m[1] !== userId) return send(400, { success: false, error: { code: 'BAD_TOKEN' } });
          offset = Number(m[2]);
        }
        const results = user.tweets.slice(offset, offset + pageSize);
        const next = offset + pageSize < user.tweets.length ? `bench-${userId}-${offset + pageSize}` : '';
        return send(200, { results, continuation_token: next });
      };
      if (shape.latencyMs > 0) setTimeout(answer, shape.latencyMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 30_000;
  const port = await listen(server);
  const origin = `http://127.0.0.1:${port}`;

  return {
    apiBase: `${origin}/v1/x`,
    shape,
    log,
    add(/** @type {DataSet} */ dataSet) {
      users.set(dataSet.userId, dataSet);
    },
    reset() {
      log.length = 0;
    },
    /** Sum of the API's response times (arrival → response finished), in ms. */
    busyMs() {
      return log.reduce((sum, r) => sum + (r.endedAt - r.startedAt), 0);
    },
    close: () => close(server),
  };
}
