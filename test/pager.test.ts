import { describe, expect, it } from 'vitest';
import { pages, type PageSource, type PagerOptions, type PagerStop } from '../src/api/pager.js';
import type { PageBody } from '../src/api/schema.js';
import { TokenRejectedError } from '../src/errors.js';
import type { ScanState, TweetFacts } from '../src/types.js';

/**
 * The pager against a fake API: pages are lists of tweet ids (newest first), chained by tokens.
 * Each case checks the requests made (tokens in order), the stop reason and the scan state the
 * caller would journal.
 */

interface FakeTweet {
  id: string;
  /** Creation day, 2022-01-DD. */
  day: number;
}

const t = (id: number, day = id): FakeTweet => ({ id: String(id), day });
const day = (d: number) => new Date(Date.UTC(2022, 0, d)).toISOString();
const factsOf = (raw: unknown): TweetFacts => {
  const tweet = raw as FakeTweet;
  return { id: BigInt(tweet.id), time: Date.UTC(2022, 0, tweet.day) };
};

/** `chain` pages: page i is served for token `p<i>` (page 1 for null) and points at `p<i+1>`. */
function api(chain: FakeTweet[][], overrides: Record<string, PageBody> = {}) {
  const asked: (string | null)[] = [];
  const source: PageSource = {
    mediaPage: async (_user, token) => {
      asked.push(token);
      const override = overrides[token ?? 'null'];
      if (override) return override;
      if (token === 'expired') throw new TokenRejectedError('HTTP 400');
      const index = token === null ? 0 : Number(token.slice(1)) - 1;
      const results = chain[index] ?? [];
      const next = index + 1 < chain.length ? `p${index + 2}` : '';
      return { results, continuation_token: next, costCents: undefined };
    },
  };
  return { source, asked };
}

const fresh = (): ScanState => ({ gaps: [], complete: false, pages: 0 });

async function drive(scan: ScanState, source: PageSource, extra: Partial<PagerOptions> = {}) {
  const warnings: string[] = [];
  const options: PagerOptions = {
    source,
    userId: '1',
    pageSize: 20,
    full: false,
    since: undefined,
    factsOf,
    mayRequest: () => true,
    signal: new AbortController().signal,
    warn: (m) => warnings.push(m),
    ...extra,
  };
  const seen: string[][] = [];
  let last = scan;
  const pager = pages(scan, options);
  for (;;) {
    const step = await pager.next();
    if (step.done) return { stop: step.value as PagerStop, seen, scan: last, warnings };
    seen.push(step.value.tweets.map((tw) => (tw as FakeTweet).id));
    last = step.value.scan;
  }
}

describe('pager', () => {
  it('a first run pages to the end of history: history-complete, head is the newest id', async () => {
    const { source, asked } = api([[t(9), t(8)], [t(7), t(6)], [t(5)]]);
    const run = await drive(fresh(), source);
    expect(run.stop).toBe('history-complete');
    expect(asked).toEqual([null, 'p2', 'p3']);
    expect(run.seen).toEqual([['9', '8'], ['7', '6'], ['5']]);
    expect(run.scan).toEqual({ head: '9', headTime: day(9), gaps: [], complete: true, pages: 3 });
  });

  it('a rerun stops at the known head after one request: caught-up', async () => {
    const { source, asked } = api([[t(11), t(10), t(9)], [t(8)]]);
    const run = await drive({ head: '9', gaps: [], complete: true, pages: 3 }, source);
    expect(run.stop).toBe('caught-up');
    expect(asked).toEqual([null]);
    expect(run.scan).toEqual({ head: '11', headTime: day(11), gaps: [], complete: true, pages: 4 });
  });

  it('pinned old tweets at the top of page 1 are not taken for the known head', async () => {
    // 3 is pinned above 12 and 11: it is older than the head (9) but must not stop the scan.
    const { source, asked } = api([[t(3), t(12), t(11)], [t(10), t(9)], [t(8)]]);
    const run = await drive({ head: '9', gaps: [], complete: true, pages: 3 }, source);
    expect(run.stop).toBe('caught-up');
    expect(asked).toEqual([null, 'p2']);
    expect(run.scan.head).toBe('12');
  });

  it('--max-pages mid-head leaves a gap from the next token down to the old head', async () => {
    const { source, asked } = api([[t(20), t(19)], [t(18), t(17)], [t(16), t(9)]]);
    let left = 1;
    const run = await drive({ head: '9', gaps: [], complete: true, pages: 3 }, source, { mayRequest: () => left-- > 0 });
    expect(run.stop).toBe('max-pages');
    expect(asked).toEqual([null]);
    expect(run.scan.gaps).toEqual([{ token: 'p2', floor: '9', notAfter: new Date(Date.UTC(2022, 0, 19)).toISOString() }]);
    expect(run.scan.head).toBe('20');
  });

  it('the next run checks the head, then fills the gap down to its floor', async () => {
    const { source, asked } = api([[t(20), t(19)], [t(18), t(17)], [t(16), t(9)]]);
    const run = await drive({ head: '20', gaps: [{ token: 'p2', floor: '9' }], complete: true, pages: 4 }, source);
    expect(run.stop).toBe('caught-up');
    expect(asked).toEqual([null, 'p2', 'p3']);
    expect(run.scan.gaps).toEqual([]);
    expect(run.scan.complete).toBe(true);
  });

  it('the backfill gap (no floor) continues from its token and completes history', async () => {
    const { source, asked } = api([[t(9), t(8)], [t(7), t(6)], [t(5)]]);
    const run = await drive({ head: '9', gaps: [{ token: 'p2' }], complete: false, pages: 1 }, source);
    expect(run.stop).toBe('history-complete');
    expect(asked).toEqual([null, 'p2', 'p3']);
    expect(run.scan).toEqual({ head: '9', gaps: [], complete: true, pages: 4 });
  });

  it('--since stops paging once a page reaches older tweets, and skips a gap wholly older', async () => {
    const { source, asked } = api([[t(30), t(25)], [t(20), t(15)], [t(10)]]);
    const since = new Date(Date.UTC(2022, 0, 22));
    const run = await drive(fresh(), source, { since });
    expect(run.stop).toBe('since');
    expect(asked).toEqual([null, 'p2']);
    const rerun = await drive({ ...run.scan }, api([[t(30), t(25)], [t(20), t(15)], [t(10)]]).source, { since });
    expect(rerun.stop).toBe('since');
    expect(rerun.seen).toEqual([['30', '25']]);
  });

  it('a token sent twice ends paging with a warning: token-loop, history not complete', async () => {
    const loop: PageBody = { results: [t(5)], continuation_token: 'p2', costCents: undefined };
    const { source, asked } = api([[t(9)], [t(8)]], { p2: loop });
    const run = await drive(fresh(), source);
    expect(run.stop).toBe('token-loop');
    expect(asked).toEqual([null, 'p2']);
    expect(run.scan.complete).toBe(false);
    expect(run.warnings).toEqual(['the API sent continuation token p2… twice; stopped paging to avoid a loop']);
  });

  it('an aborted signal stops before the next request: interrupted', async () => {
    const controller = new AbortController();
    const { source, asked } = api([[t(9)], [t(8)]]);
    const pager = pages(fresh(), { source, userId: '1', pageSize: 20, full: false, since: undefined, factsOf, mayRequest: () => true, signal: controller.signal, warn: () => undefined });
    expect((await pager.next()).done).toBe(false);
    controller.abort();
    expect(await pager.next()).toEqual({ done: true, value: 'interrupted' });
    expect(asked).toEqual([null]);
  });

  it('an expired saved token is paged again from page 1 down to the gap floor', async () => {
    const { source, asked } = api([[t(20), t(19)], [t(18), t(9)]]);
    const run = await drive({ head: '20', gaps: [{ token: 'expired', floor: '9' }], complete: true, pages: 2 }, source);
    expect(asked).toEqual([null, 'expired', null, 'p2']);
    expect(run.stop).toBe('caught-up');
    expect(run.scan.gaps).toEqual([]);
    expect(run.warnings).toHaveLength(1);
  });

  it('an empty page 1 above a known head is "nothing new", never the end of history', async () => {
    const empty: PageBody = { results: [], continuation_token: '', costCents: undefined };
    const { source } = api([], { null: empty });
    const run = await drive({ head: '9', gaps: [{ token: 'p5' }], complete: false, pages: 4 }, source, { mayRequest: (() => { let n = 1; return () => n-- > 0; })() });
    expect(run.scan.gaps).toEqual([{ token: 'p5' }]);
    expect(run.scan.complete).toBe(false);
    expect(run.stop).toBe('max-pages');
  });

  it('an empty page in the middle of history is followed: the tweets behind it are paged', async () => {
    const { source, asked } = api([[t(9), t(8)], [], [t(7), t(6)], [t(5)]]);
    const run = await drive(fresh(), source);
    expect(run.stop).toBe('history-complete');
    expect(asked).toEqual([null, 'p2', 'p3', 'p4']);
    expect(run.seen).toEqual([['9', '8'], [], ['7', '6'], ['5']]);
    expect(run.scan.complete).toBe(true);
  });

  it('empty pages that keep carrying tokens end history after two more: at most two extra requests', async () => {
    const chain = [[t(9)], ...Array.from({ length: 10 }, () => [])];
    const { source, asked } = api(chain);
    const run = await drive(fresh(), source);
    expect(run.stop).toBe('history-complete');
    expect(asked).toEqual([null, 'p2', 'p3', 'p4']);
    expect(run.scan).toEqual({ head: '9', headTime: day(9), gaps: [], complete: true, pages: 4 });
  });

  it('pages that bring nothing new under fresh tokens stop after 3 in a row, keeping the gap', async () => {
    let n = 0;
    const source: PageSource = {
      mediaPage: async (_user, token) => {
        n += 1;
        if (token === null) return { results: [t(9), t(8)], continuation_token: 'fresh1', costCents: undefined };
        return { results: [t(7), t(6)], continuation_token: `fresh${n}`, costCents: undefined };
      },
    };
    const run = await drive(fresh(), source);
    expect(run.stop).toBe('no-progress');
    // Page 1, the first page of 7 and 6 (new), then three that bring nothing new.
    expect(n).toBe(5);
    expect(run.warnings).toEqual(['3 pages in a row brought no tweet new to this run (the API may be looping); stopped paging, the rest is kept for a later run']);
    expect(run.scan.complete).toBe(false);
    expect(run.scan.gaps).toEqual([{ token: 'fresh5', notAfter: new Date(Date.UTC(2022, 0, 6)).toISOString() }]);
  });
});
