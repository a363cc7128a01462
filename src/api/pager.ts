import { TokenRejectedError } from '../errors.js';
import type { Gap, ScanState, StopReason, TweetFacts } from '../types.js';
import type { PageBody } from './schema.js';

/**
 * Which pages to ask for, and when to stop. A run first scans the head (page 1 onward) down to
 * the newest tweet it already knows, then fills the gaps earlier runs left, newest first: the
 * last gap is the history backfill. `pages()` yields each page with the scan state after it;
 * the caller journals both in one line before asking for the next page, so whatever stops the
 * run (--max-pages, credits, a signal, a crash) the next one continues without paying again.
 */

export interface PageSource {
  mediaPage(userId: string, token: string | null, limit: number, pageNo: number): Promise<PageBody & { raw?: string }>;
}

export interface PagerOptions {
  source: PageSource;
  userId: string;
  pageSize: number;
  /** Page past the known head: rescan all history. */
  full: boolean;
  since: Date | undefined;
  factsOf: (tweet: unknown) => TweetFacts;
  /** Takes one request from the run's allowance, or returns false. */
  mayRequest: () => boolean;
  signal: AbortSignal;
  warn: (message: string) => void;
  /** Numbers this user's pages across the head scan and the gaps (page 1, 2, … in messages). */
  numbering?: { last: number };
  /**
   * The tokens earlier runs saved (the gaps as the run found them). Only such a token can have
   * expired; one this run was just given and the API refuses is an error of the API's.
   */
  savedTokens?: ReadonlySet<string>;
}

/** One page as fetched, and where paging stands once it is journaled. */
export interface FetchedPage {
  pageNo: number;
  tweets: readonly unknown[];
  /** The body's text as the API sent it, when the source keeps it. */
  raw: string | undefined;
  /** The page's newest tweet id. */
  newest: string | undefined;
  scan: ScanState;
}

/** A pinned or reposted old tweet can sit at the top of page 1: this many are not trusted there. */
const MAX_PINNED = 3;
/** Empty pages that still carry a token are followed this many times before history is called ended. */
const EMPTY_PAGES_FOLLOWED = 2;
/** Pages in a row that bring no tweet new to this walk before paging stops (the API may be looping). */
const STALE_PAGES_LIMIT = 3;

/** The reasons the pager itself stops for; errors from the API are thrown. */
export type PagerStop = Extract<StopReason, 'caught-up' | 'history-complete' | 'since' | 'max-pages' | 'token-loop' | 'no-progress' | 'interrupted'>;

type WalkEnd = 'floor' | 'end' | 'paused' | 'since' | 'max-pages' | 'token-loop' | 'no-progress' | 'interrupted';

/** What one walk remembers from page to page, to tell the end of history from a stutter. */
interface WalkMemory {
  seenTokens: Set<string>;
  seenTweets: Set<bigint>;
  /** Empty pages in a row, each still carrying a token. */
  empties: number;
  /** Non-empty pages in a row without a tweet new to this walk. */
  stale: number;
}

/** What one page told the walk: where to go next and how far the page reached. */
interface PageFacts {
  next: string | null;
  newest: { id: bigint; time: number | undefined } | undefined;
  authorCreated: number | undefined;
  /** Creation time of the page's oldest trusted tweet: everything after it is no newer. */
  oldest: string | undefined;
  end: WalkEnd | undefined;
}

/** Moves the scan state on past one page of a walk. */
type Advance = (scan: ScanState, page: PageFacts) => void;

/** The pages of one user, head first, then the gaps; returns why paging stopped. */
export async function* pages(start: ScanState, options: PagerOptions): AsyncGenerator<FetchedPage, PagerStop, void> {
  let scan = start;
  options = { ...options, numbering: options.numbering ?? { last: 0 }, savedTokens: options.savedTokens ?? new Set(start.gaps.map((gap) => gap.token)) };
  const head = headPages(start, options);
  for (let step = await head.next(); ; step = await head.next()) {
    if (step.done) {
      if (step.value !== 'floor' && step.value !== 'end' && step.value !== 'paused') return step.value;
      return yield* gapPages(scan, options, step.value === 'end');
    }
    scan = step.value.scan;
    yield step.value;
  }
}

/** How the head scan ended: at the known head (`floor`), at the end of history, after its first page (`paused`), or stopped. */
export type HeadEnd = WalkEnd;

/**
 * The head scan: from page 1 down to the newest tweet already known. For an account with no
 * known head (its first run) it takes page 1 only and leaves the rest as the backfill gap, so
 * with many accounts every head is checked before any backfill goes on.
 */
export async function* headPages(start: ScanState, options: PagerOptions): AsyncGenerator<FetchedPage, HeadEnd, void> {
  const scan = structuredClone(start);
  const walker = new Walker(scan, options);
  const onePage = scan.head === undefined && !options.full;
  return yield* walker.walk(null, options.full ? undefined : scan.head, headAdvance(scan.head, scan.gaps), onePage ? 1 : Number.POSITIVE_INFINITY);
}

/**
 * The gaps, newest first; the last one without a floor is the history backfill. A gap wholly
 * older than --since is left for a run that wants it, without paying to look. `reachedEnd`: the
 * head scan already met the end of history.
 */
export async function* gapPages(start: ScanState, options: PagerOptions, reachedEnd = false): AsyncGenerator<FetchedPage, PagerStop, void> {
  const scan = structuredClone(start);
  const walker = new Walker(scan, options);
  const sinceMs = options.since?.getTime();
  let skipped = false;
  let ended = reachedEnd;
  for (const gap of [...scan.gaps]) {
    if (sinceMs !== undefined && gap.notAfter !== undefined && Date.parse(gap.notAfter) < sinceMs) {
      skipped = true;
      continue;
    }
    const end = yield* walker.fillGap(gap);
    // A gap is walked without a page limit: it cannot pause.
    if (end !== 'floor' && end !== 'end' && end !== 'paused') return end;
    ended ||= end === 'end';
  }
  if (ended) return 'history-complete';
  return skipped ? 'since' : 'caught-up';
}

class Walker {
  private readonly numbering: { last: number };
  constructor(
    private readonly scan: ScanState,
    private readonly options: PagerOptions,
  ) {
    this.numbering = options.numbering ?? { last: 0 };
  }

  /** Walk from `start` until a tweet at or below `floor`, the end, a stop, or `limit` pages (`paused`). */
  async *walk(start: string | null, floor: string | undefined, advance: Advance, limit = Number.POSITIVE_INFINITY): AsyncGenerator<FetchedPage, WalkEnd, void> {
    const { options, scan } = this;
    let token = start;
    // Per walk: a walk restarted from page 1 sees the head scan's pages again, legitimately.
    const memory: WalkMemory = { seenTokens: new Set(), seenTweets: new Set(), empties: 0, stale: 0 };
    for (;;) {
      if (options.signal.aborted) return 'interrupted';
      if (!options.mayRequest()) return 'max-pages';
      const pageNo = ++this.numbering.last;
      const page = await options.source.mediaPage(options.userId, token, options.pageSize, pageNo);
      const facts = pageFacts(page, token, floor, options, memory);
      if (facts.end === 'token-loop') options.warn(`the API sent continuation token ${facts.next?.slice(0, 16) ?? ''}… twice; stopped paging to avoid a loop`);
      if (facts.end === 'no-progress') {
        options.warn(`${STALE_PAGES_LIMIT} pages in a row brought no tweet new to this run (the API may be looping); stopped paging, the rest is kept for a later run`);
      }
      scan.pages += 1;
      advance(scan, facts);
      // The page's media and the progress past it are journaled together by the caller: after a
      // crash either both are known or the page is asked for again, never media lost.
      yield { pageNo, tweets: page.results, raw: page.raw, newest: facts.newest?.id.toString(), scan: structuredClone(scan) };
      if (facts.end !== undefined) return facts.end;
      if (--limit <= 0) return 'paused';
      memory.seenTokens.add(token ?? '');
      token = facts.next;
    }
  }

  /**
   * Page through one gap. A token saved by an earlier run can expire: its stretch of history is
   * still owed, so it is paged again from page 1 down to where the gap ends (pages already known
   * cost again; nothing is lost).
   */
  async *fillGap(gap: Gap): AsyncGenerator<FetchedPage, WalkEnd, void> {
    const saved = gap.token;
    const advance = gapAdvance(gap);
    if (gap.fromStart) return yield* this.walk(null, gap.floor, advance);
    try {
      return yield* this.walk(saved, gap.floor, advance);
    } catch (error) {
      const earlier = this.options.savedTokens?.has(saved) ?? true;
      if (!(error instanceof TokenRejectedError) || gap.token !== saved || !earlier) throw error;
      this.options.warn(`the API no longer accepts a continuation token saved by an earlier run (${error.message}); paging again from page 1 to fill that gap`);
      return yield* this.walk(null, gap.floor, advance);
    }
  }
}

/** The head scan: from page 1 down to the newest tweet already known. */
function headAdvance(oldHead: string | undefined, olderGaps: readonly Gap[]): Advance {
  return (scan, { next, newest, oldest, end, authorCreated }) => {
    if (newest !== undefined && (scan.head === undefined || newest.id > BigInt(scan.head))) {
      scan.head = newest.id.toString();
      if (newest.time !== undefined) scan.headTime = new Date(newest.time).toISOString();
    }
    if (authorCreated !== undefined) scan.accountCreated = new Date(authorCreated).toISOString();
    if (end === 'floor') scan.gaps = [...olderGaps];
    else if (end === 'end') {
      // Page 1 down to the last page: every tweet has been seen, older gaps included.
      scan.gaps = [];
      scan.complete = true;
    } else if (next !== null) {
      // Until the scan reaches the old head, what lies between is a gap starting at this token.
      const gap: Gap = { token: next, ...(oldHead === undefined ? {} : { floor: oldHead }), ...(oldest === undefined ? {} : { notAfter: oldest }) };
      scan.gaps = [gap, ...olderGaps];
    }
  };
}

/** A gap shrinks page by page from its newer end, and closes when it reaches its floor or the end. */
function gapAdvance(gap: Gap): Advance {
  return (scan, { next, oldest, end }) => {
    if (end === 'floor' || end === 'end') {
      scan.gaps = scan.gaps.filter((g) => g !== gap);
      if (gap.floor === undefined) scan.complete = true;
    } else if (next !== null) {
      gap.token = next;
      delete gap.fromStart;
      if (oldest !== undefined) gap.notAfter = oldest;
    }
  };
}

/**
 * Where a page leaves the walk. Only a page without a token, or empty pages followed for
 * EMPTY_PAGES_FOLLOWED more tokens, end history: one empty page in the middle is a stutter.
 */
function pageFacts(page: PageBody, token: string | null, floor: string | undefined, options: PagerOptions, memory: WalkMemory): PageFacts {
  const tweets = page.results;
  const facts = tweets.map(options.factsOf);
  const trusted = facts.slice(token === null ? pinnedCount(facts) : 0);
  const next = page.continuation_token ? page.continuation_token : null;
  const newest = facts.reduce<PageFacts['newest']>((max, f) => (f.id !== undefined && (max === undefined || f.id > max.id) ? { id: f.id, time: f.time } : max), undefined);
  const authorCreated = facts.find((f) => f.authorCreated !== undefined)?.authorCreated;
  const oldestMs = trusted.reduce<number | undefined>((min, f) => (f.time !== undefined && (min === undefined || f.time < min) ? f.time : min), undefined);
  const oldest = oldestMs === undefined ? undefined : new Date(oldestMs).toISOString();
  const sinceMs = options.since?.getTime();
  const brought = remember(memory, facts);
  let end: WalkEnd | undefined;
  if (floor !== undefined && trusted.some((f) => f.id !== undefined && f.id <= BigInt(floor))) end = 'floor';
  // An empty page 1 above a known head is the API having nothing to say, not proof that
  // history ended: believing it would drop the backfill token for good.
  else if (floor !== undefined && token === null && tweets.length === 0) end = 'floor';
  else if (next === null) end = 'end';
  else if (tweets.length === 0) end = memory.empties > EMPTY_PAGES_FOLLOWED ? 'end' : undefined;
  else if (sinceMs !== undefined && oldestMs !== undefined && oldestMs < sinceMs) end = 'since';
  else if (memory.seenTokens.has(next) || next === token) end = 'token-loop';
  else if (brought === 0 && memory.stale >= STALE_PAGES_LIMIT) end = 'no-progress';
  return { next, newest, oldest, end, authorCreated };
}

/** Counts the page's tweets new to this walk, and the runs of empty and stale pages. */
function remember(memory: WalkMemory, facts: readonly TweetFacts[]): number {
  let fresh = 0;
  for (const { id } of facts) {
    if (id === undefined || memory.seenTweets.has(id)) continue;
    memory.seenTweets.add(id);
    fresh += 1;
  }
  memory.empties = facts.length === 0 ? memory.empties + 1 : 0;
  if (facts.length > 0) memory.stale = fresh === 0 ? memory.stale + 1 : 0;
  return fresh;
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
