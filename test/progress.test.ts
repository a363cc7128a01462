import { describe, expect, it } from 'vitest';
import { emptyProgress, formatSummary, type Progress, type SummaryFacts } from '../src/output/summary.js';
import { formatDuration, progressLine } from '../src/output/progress.js';
import { loadFixtureMedia, type ReplayHandler } from '../fixtures/replay-server.js';
import { runCli, serverArgs, tempDir, useReplayServers } from './helpers/cli.js';
import { FILES } from './helpers/seed.js';
import { inTmux, TMUX, warnIfNoTmux } from './helpers/tmux.js';

const serve = useReplayServers();
warnIfNoTmux('progress.test.ts');

/** The first photo of page 1 is gone from the CDN, at every size. */
const GONE = FILES['1517995317697916928_1.jpg'];
const goneFromCdn: ReplayHandler = (req, res) => {
  if (req.kind !== 'cdn' || !req.path.includes('FREAsbkXIAYiaVV')) return false;
  res.writeHead(404, { 'content-type': 'text/plain', 'content-length': '10' });
  res.end('Not Found\n');
  return true;
};
const FAILED_LINE = new RegExp(`^failed: ${GONE?.media} \\(tweet 1517995317697916928\\): HTTP 404 from `);
/** What the six other files weigh, from the fixtures, as the summary writes it (kB, one decimal). */
const SAVED_KB = `${(Object.values(FILES).reduce((sum, f) => sum + (f === GONE ? 0 : (loadFixtureMedia().get(f.key)?.length ?? Number.NaN)), 0) / 1000).toFixed(1)} KB`;
const SUMMARY = `6 files on disk: 6 new (${SAVED_KB}), 0 already archived · 0 skipped, 1 failed · 3 API requests, $0.03`;

describe('progress on a terminal', () => {
  it.runIf(TMUX)('after paging: n/total files, bytes of ~total, rate and ETA; a failed item prints its line while the run goes on', async () => {
    const server = await serve({ cdnLatencyMs: 400, handle: goneFromCdn });
    const args = ['--user', '96479162', '--out', tempDir(), '--concurrency', '1', ...serverArgs(server)];
    await inTmux(args, '', async ({ until }) => {
      const during = await until((text) => /failed: /.test(text) && /[1-5]\/7 files .*ETA/.test(text));
      const [failed, spinner] = during.split('\n');
      expect(failed).toMatch(FAILED_LINE);
      expect(during).not.toContain('EXIT=');
      expect(spinner).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] [1-5]\/7 files · [\d.]+ KB of ~[\d.]+ KB · [\d.]+ KB\/s · ETA (\d+s|<1s) · 1 failed · \$0\.03$/);
      const after = (await until((text) => text.includes('EXIT='))).split('\n').filter((line) => line.trim() !== '');
      expect(after[0]).toMatch(FAILED_LINE);
      expect(after.slice(1)).toEqual([
        SUMMARY,
        'history: complete · stopped: end of history',
        'waiting: 1 media found but not on disk yet; the next run fetches them without paying for their pages again',
        'EXIT=1',
      ]);
    });
  });
});

describe('progress without a terminal (cron)', () => {
  it('a plain progress line while work remains (paging, then n/total), the failure when it happens, then the summary', async () => {
    const server = await serve({ apiLatencyMs: 300, cdnLatencyMs: 400, handle: goneFromCdn });
    // The period is 30 s; the test shortens it to 100 ms through the variable cli.ts reads for tests.
    const result = await runCli(['--user', '96479162', '--out', tempDir(), '--concurrency', '1', ...serverArgs(server)], { env: { X_MEDIA_DUMP_TEST_PROGRESS_MS: '100' } });
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    const summary = lines.indexOf(SUMMARY);
    expect(summary).toBe(lines.length - 3);
    expect(lines.slice(summary + 1)).toEqual([
      'history: complete · stopped: end of history',
      'waiting: 1 media found but not on disk yet; the next run fetches them without paying for their pages again',
    ]);
    const progress = lines.map((line, i) => ({ line, i })).filter(({ line }) => line.startsWith('x-media-dump: ['));
    expect(progress.length).toBeGreaterThan(0);
    for (const { line } of progress) expect(line).toMatch(/^x-media-dump: \[(<1s|\d+s)\] (paging: [0-2] pages? · \d files? found, \d done · .+|[0-6]\/7 files · .+ · \$0\.0[0-3])$/);
    // While paging, what is known; once it has ended, n/total: never the other way round.
    const paging = progress.filter(({ line }) => line.includes('] paging: ')).map(({ i }) => i);
    const counted = progress.filter(({ line }) => /\] \d\/7 files/.test(line)).map(({ i }) => i);
    expect(paging.length).toBeGreaterThan(0);
    expect(counted.length).toBeGreaterThan(0);
    expect(Math.max(...paging)).toBeLessThan(Math.min(...counted));
    const failed = lines.findIndex((line) => FAILED_LINE.test(line));
    expect(lines.filter((line) => line.startsWith('failed: '))).toHaveLength(1);
    // Printed when it failed: progress went on after it, and the summary does not repeat it.
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(failed).toBeLessThan(progress.at(-1)?.i ?? -1);
    expect(progress.every(({ i }) => i < summary)).toBe(true);
  });

  it('--quiet: no progress line and no summary, the failure alone at the end', async () => {
    const server = await serve({ cdnLatencyMs: 200, handle: goneFromCdn });
    const result = await runCli(['--user', '96479162', '--out', tempDir(), '--quiet', ...serverArgs(server)], { env: { X_MEDIA_DUMP_TEST_PROGRESS_MS: '50' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${FAILED_LINE.source}[^\\n]+\\n$`));
  });
});

describe('the progress line and the summary, as text', () => {
  const counts = (over: Partial<Progress>): Progress => ({ ...emptyProgress(), ...over });

  it('while paging: what is known so far, plurals right', () => {
    expect(progressLine(counts({ pages: 1, found: 1 }), undefined)).toBe('paging: 1 page · 1 file found, 0 done · 0 B · $0.00');
    expect(progressLine(counts({ pages: 2, found: 5, skipped: 1, downloaded: 2, failed: 1, bytes: 20_000, cents: 2 }), 4000)).toBe(
      'paging: 2 pages · 4 files found, 3 done · 1 failed · 20.0 KB at 4.0 KB/s · $0.02',
    );
  });

  it('after paging: n/total, bytes of ~total at the average so far, rate, ETA', () => {
    // 2 of 6 downloaded (10 KB each): ~60 KB in all, 40 KB to go at 4 KB/s is 10 s.
    expect(progressLine(counts({ pagingDone: true, pages: 3, found: 7, skipped: 1, downloaded: 2, bytes: 20_000, cents: 3 }), 4000)).toBe('2/6 files · 20.0 KB of ~60.0 KB · 4.0 KB/s · ETA 10s · $0.03');
    expect(progressLine(counts({ pagingDone: true, found: 1 }), undefined)).toBe('0/1 file · 0 B · $0.00');
    expect(progressLine(counts({ pagingDone: true, found: 2, downloaded: 2, bytes: 2000 }), 1000)).toBe('2/2 files · 2.0 KB · 1.0 KB/s · $0.00');
  });

  it('durations', () => {
    expect([400, 1000, 59_000, 61_000, 3_600_000 + 120_000].map(formatDuration)).toEqual(['<1s', '1s', '59s', '1m01s', '1h02m']);
  });

  it('the summary: counts that add up to what is on disk; a refused request counted, not billed', () => {
    const facts = (over: Partial<SummaryFacts>): SummaryFacts => ({
      progress: counts({ pagingDone: true }),
      requests: 0,
      refused: 0,
      cents: 0,
      onDisk: 0,
      scan: undefined,
      stop: undefined,
      waiting: 0,
      dryRun: false,
      failures: [],
      ...over,
    });
    expect(formatSummary(facts({ progress: counts({ downloaded: 5, exists: 2, bytes: 46_900 }), onDisk: 7, requests: 3, cents: 3 }))).toBe(
      '7 files on disk: 5 new (46.9 KB), 2 already archived · 0 skipped, 0 failed · 3 API requests, $0.03\n',
    );
    expect(formatSummary(facts({ progress: counts({ downloaded: 1, bytes: 500 }), onDisk: 1, requests: 1, cents: 1 }))).toBe(
      '1 file on disk: 1 new (500 B), 0 already archived · 0 skipped, 0 failed · 1 API request, $0.01\n',
    );
    expect(formatSummary(facts({ refused: 1, stop: 'key-rejected' }))).toBe('0 files on disk: 0 new, 0 already archived · 0 skipped, 0 failed · 1 API request (refused, not billed), $0.00\nstopped: API key rejected\n');
    expect(formatSummary(facts({ requests: 1, refused: 1, cents: 1, onDisk: 2 }))).toContain('2 files on disk: 0 new, 2 already archived · 0 skipped, 0 failed · 2 API requests (1 refused, not billed), $0.01\n');
  });
});
