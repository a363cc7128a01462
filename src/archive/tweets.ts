import fs from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { appendWhole, readRegion, sizeOf } from './journal.js';

/**
 * Every tweet a page returned, kept as the API sent it (the response body itself, so nothing is
 * re-encoded and no depth of nesting can trip a serializer): one gzip member per page appended to
 * `tweets.jsonl.gz` (members concatenate into a valid gzip file of JSON lines). The journal line
 * that records a page names its member's offset and length, and is written after it, so a crash
 * never leaves a journaled page without its tweets; a member no journal line names (a crash in
 * between) is cut off on the next open.
 */

export const TWEETS_FILE = 'tweets.jsonl.gz';

/** A page as stored: the response body exactly as the API sent it (JSON text, bare or enveloped). */
export interface StoredPage {
  user_id: string;
  seq: number;
  body: string;
}

/** The tweets of a stored page's body; [] when the body is not a page. */
export function tweetsOf(page: StoredPage): unknown[] {
  try {
    const body = JSON.parse(page.body) as { results?: unknown; data?: { results?: unknown } };
    const results = body.results ?? body.data?.results;
    return Array.isArray(results) ? results : [];
  } catch {
    return [];
  }
}

/** Where a page's tweets sit in the store. */
export interface TweetsRef {
  at: number;
  len: number;
}

export class TweetStore {
  private fd: number | undefined;
  size: number;

  constructor(readonly path: string) {
    this.size = sizeOf(path);
  }

  /** Append one page's tweets; returns where they went. */
  append(page: StoredPage): TweetsRef {
    const bytes = gzipSync(`${JSON.stringify(page)}\n`);
    this.fd ??= fs.openSync(this.path, 'a');
    const at = this.size;
    // A tail no journal line names (a torn write not cut back) is cut off on the next open.
    appendWhole(this.fd, this.path, at, bytes);
    this.size += bytes.length;
    return { at, len: bytes.length };
  }

  /** The pages stored in bytes [from, to), in order; an unreadable stretch ends the list there. */
  read(from: number, to: number): StoredPage[] {
    if (to <= from) return [];
    let text: string;
    try {
      text = gunzipSync(readRegion(this.path, from, to - from)).toString('utf8');
    } catch {
      // Gone, cut short or damaged: those pages' tweets are not there to read.
      return [];
    }
    const pages: StoredPage[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        pages.push(JSON.parse(line) as StoredPage);
      } catch {
        break;
      }
    }
    return pages;
  }

  /** Cut off what no journal line names (a crash between a page's tweets and its line). */
  truncate(size: number): void {
    if (size >= this.size) return;
    this.close();
    fs.truncateSync(this.path, size);
    this.size = size;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Every tweet the store holds, each once: pages read newest first (a head page fetched again
 * every night carries the freshest counts), and a tweet already given skipped. Flat in memory:
 * the pages are read one at a time, and the ids given are kept as 64-bit halves in typed arrays.
 */
export function* storedTweets(refs: Iterable<TweetsRef>, store: TweetStore): Generator<unknown> {
  const at: number[] = [];
  const len: number[] = [];
  for (const ref of refs) {
    at.push(ref.at);
    len.push(ref.len);
  }
  const given = new IdSet();
  for (let i = at.length - 1; i >= 0; i--) {
    const start = at[i] ?? 0;
    for (const page of store.read(start, start + (len[i] ?? 0))) {
      for (const tweet of tweetsOf(page)) {
        const id = idOf(tweet);
        if (id === undefined || given.add(id)) yield tweet;
      }
    }
  }
}

function idOf(tweet: unknown): string | undefined {
  if (tweet === null || typeof tweet !== 'object') return undefined;
  const { tweet_id: a, id_str: b } = tweet as { tweet_id?: unknown; id_str?: unknown };
  const id = typeof a === 'string' ? a : b;
  return typeof id === 'string' && /^\d{1,20}$/.test(id) && BigInt(id) < 1n << 64n ? id : undefined;
}

/** A set of 64-bit ids (open addressing over two Uint32Arrays; 0 is never an id X gives). */
class IdSet {
  private hi = new Uint32Array(1 << 12);
  private lo = new Uint32Array(1 << 12);
  private count = 0;

  /** Adds `id`; false if it was there already. */
  add(id: string): boolean {
    const value = BigInt(id);
    const hi = Number(value >> 32n);
    const lo = Number(value & 0xffffffffn);
    if ((this.count + 1) * 2 > this.hi.length) this.grow();
    return this.insert(hi, lo);
  }

  private insert(hi: number, lo: number): boolean {
    const mask = this.hi.length - 1;
    for (let cell = (Math.imul(lo ^ hi, 0x9e3779b1) >>> 0) & mask; ; cell = (cell + 1) & mask) {
      if (this.hi[cell] === 0 && this.lo[cell] === 0) {
        this.hi[cell] = hi;
        this.lo[cell] = lo;
        this.count += 1;
        return true;
      }
      if (this.hi[cell] === hi && this.lo[cell] === lo) return false;
    }
  }

  private grow(): void {
    const { hi, lo } = this;
    this.hi = new Uint32Array(hi.length * 2);
    this.lo = new Uint32Array(lo.length * 2);
    this.count = 0;
    for (let cell = 0; cell < hi.length; cell++) if (hi[cell] !== 0 || lo[cell] !== 0) this.insert(hi[cell] ?? 0, lo[cell] ?? 0);
  }
}
