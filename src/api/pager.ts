import { createdAt } from '../media/normalize.js';
import type { ScanState } from '../types.js';
import { TokenRejectedError, type ApiClient } from './client.js';

/**
 * Which pages to ask for, and when to stop. A run first scans the head (page 1 onward) down to
 * the newest tweet it already knows, then fills the gaps earlier runs left, newest first: the
 * last gap is the history backfill. Progress is saved after every page, so whatever stops the
 * run (--max-pages, credits, a signal, a crash) the next one continues without paying again.
 */

export type StopReason = 'caught-up' | 'history-complete' | 'since' | 'max-pages' | 'token-loop' | 'interrupted';

export interface PagerOptions {
  client: ApiClient;
  userId: string;
  pageSize: number;
  /** Page past the known head: rescan all history. */
  full: boolean;
  since: Date | undefined;
  /** Takes one request from the run's --max-pages allowance, or returns false. */
  mayRequest: () => boolean;
  signal: AbortSignal;
  /** Journals and queues a page's tweets; must finish before the page's progress is saved. */
  onTweets: (tweets: readonly unknown[]) => void;
  saveScan: (scan: ScanState) => void;
  warn: (message: string) => void;
}

/** A pinned or reposted old tweet can sit at the top of page 1: this many are not trusted there. */
const MAX_PINNED = 3;

type WalkEnd = 'floor' | 'end' | 'since' | 'max-pages' | 'token-loop' | 'interrupted';

/** What one page told the walk: where to go next and how far the page reached. */
interface PageFacts {
  next: string | null;
  newest: bigint | undefined;
  /** Creation time of the page's oldest trusted tweet: everything after it is no newer. */
  oldest: string | undefined;
  end: WalkEnd | undefined;
}

export async function scanUser(scan: ScanState, options: PagerOptions): Promise<StopReason> {
  const sinceMs = options.since?.getTime();
  let pageNo = 0;

  /** Walk from `start` until a tweet at or below `floor`, the end, or a stop. */
  const walk = async (start: string | null, floor: string | undefined, advance: (page: PageFacts) => void): Promise<WalkEnd> => {
    let token = start;
    // Per walk: a walk restarted from page 1 sees the head scan's tokens again, legitimately.
    const seenTokens = new Set<string>();
    for (;;) {
      if (options.signal.aborted) return 'interrupted';
      if (!options.mayRequest()) return 'max-pages';
      pageNo += 1;
      const page = await options.client.mediaPage(options.userId, token, options.pageSize, pageNo);
      const tweets = page.results;
      const facts = tweets.map(tweetFacts);
      const trusted = facts.slice(token === null ? pinnedCount(facts) : 0);
      const next = page.continuation_token ? page.continuation_token : null;
      const newest = facts.reduce<bigint | undefined>((max, f) => (f.id !== undefined && (max === undefined || f.id > max) ? f.id : max), undefined);
      const oldestMs = trusted.reduce<number | undefined>((min, f) => (f.time !== undefined && (min === undefined || f.time < min) ? f.time : min), undefined);
      let end: WalkEnd | undefined;
      if (floor !== undefined && trusted.some((f) => f.id !== undefined && f.id <= BigInt(floor))) end = 'floor';
      // An empty page 1 above a known head is the API having nothing to say, not proof that
      // history ended: believing it would drop the backfill token for good.
      else if (floor !== undefined && token === null && tweets.length === 0) end = 'floor';
      else if (next === null || tweets.length === 0) end = 'end';
      else if (sinceMs !== undefined && oldestMs !== undefined && oldestMs < sinceMs) end = 'since';
      else if (seenTokens.has(next) || next === token) {
        options.warn(`the API sent continuation token ${next.slice(0, 16)}… twice; stopped paging to avoid a loop`);
        end = 'token-loop';
      }
      // The page's media and the progress past it are journaled together (see Archive.discover):
      // after a crash either both are known or the page is asked for again, never media lost.
      options.onTweets(tweets);
      scan.pages += 1;
      advance({ next, newest, oldest: oldestMs === undefined ? undefined : new Date(oldestMs).toISOString(), end });
      options.saveScan(scan);
      if (end !== undefined) return end;
      seenTokens.add(token ?? '');
      token = next;
    }
  };

  // The head scan: from page 1 down to the newest tweet already known.
  const oldHead = scan.head;
  const olderGaps = scan.gaps;
  const headEnd = await walk(null, options.full ? undefined : oldHead, ({ next, newest, oldest, end }) => {
    if (newest !== undefined && (scan.head === undefined || newest > BigInt(scan.head))) scan.head = newest.toString();
    if (end === 'floor') scan.gaps = olderGaps;
    else if (end === 'end') {
      // Page 1 down to the last page: every tweet has been seen, older gaps included.
      scan.gaps = [];
      scan.complete = true;
    } else if (next !== null) {
      // Until the scan reaches the old head, what lies between is a gap starting at this token.
      scan.gaps = [{ token: next, ...(oldHead === undefined ? {} : { floor: oldHead }), ...(oldest === undefined ? {} : { notAfter: oldest }) }, ...olderGaps];
    }
  });
  if (headEnd !== 'floor' && headEnd !== 'end') return headEnd;

  // Then the gaps, newest first; the last one without a floor is the history backfill. A gap
  // wholly older than --since is left for a run that wants it, without paying to look.
  let skipped = false;
  for (const current of [...scan.gaps]) {
    if (sinceMs !== undefined && current.notAfter !== undefined && Date.parse(current.notAfter) < sinceMs) {
      skipped = true;
      continue;
    }
    const advance = ({ next, oldest, end: walkEnd }: PageFacts) => {
      if (walkEnd === 'floor' || walkEnd === 'end') {
        scan.gaps = scan.gaps.filter((g) => g !== current);
        if (current.floor === undefined) scan.complete = true;
      } else if (next !== null) {
        current.token = next;
        if (oldest !== undefined) current.notAfter = oldest;
      }
    };
    const saved = current.token;
    let end: WalkEnd;
    try {
      end = await walk(saved, current.floor, advance);
    } catch (error) {
      // A token saved by an earlier run can expire. Its stretch of history is still owed: page
      // again from page 1 down to where the gap ends (pages already known cost again; nothing is lost).
      if (!(error instanceof TokenRejectedError) || current.token !== saved) throw error;
      options.warn(`the API no longer accepts a continuation token saved by an earlier run (${error.message}); paging again from page 1 to fill that gap`);
      end = await walk(null, current.floor, advance);
    }
    if (end !== 'floor' && end !== 'end') return end;
  }
  if (scan.complete) return 'history-complete';
  return skipped ? 'since' : 'caught-up';
}

interface TweetFacts {
  id: bigint | undefined;
  time: number | undefined;
}

function tweetFacts(raw: unknown): TweetFacts {
  if (!raw || typeof raw !== 'object') return { id: undefined, time: undefined };
  const tweet = raw as Record<string, unknown>;
  const id = tweet['tweet_id'] ?? tweet['id_str'];
  if (typeof id !== 'string' || !/^\d+$/.test(id)) return { id: undefined, time: undefined };
  const pick = (key: string) => (typeof tweet[key] === 'string' ? (tweet[key] as string) : undefined);
  const timestamp = typeof tweet['timestamp'] === 'number' ? tweet['timestamp'] : undefined;
  const iso = createdAt({ creation_date: pick('creation_date'), created_at: pick('created_at'), timestamp }, id);
  return { id: BigInt(id), time: iso === undefined ? undefined : Date.parse(iso) };
}

/**
 * Leading items (up to 3) on page 1 that are older than something below them: pinned tweets or
 * old reposts. They must not be mistaken for having reached the known head.
 */
export function pinnedCount(facts: readonly TweetFacts[]): number {
  let count = 0;
  while (count < MAX_PINNED && count < facts.length - 1) {
    const id = facts[count]?.id;
    const newerBelow = facts.slice(count + 1).some((f) => f.id !== undefined && id !== undefined && f.id > id);
    if (!newerBelow) break;
    count += 1;
  }
  return count;
}
