// @ts-check
/// <reference lib="dom" />
/**
 * `npm run bench:view`: the offline viewer with 50,000 items. Writes a synthetic archive (the items
 * share the seed's few real media files) with the built writeViewer, opens it from file:// in
 * Debian's Chromium, and prints, as medians of BENCH_RUNS page loads: the time from navigation to
 * the first tiles, the script time up to then, the time a text search, a type filter and a date
 * filter take (measured in the page with performance.now(), from the input event to the next
 * frame), a jump to the middle of the grid, and the JS heap. Target: under a second to open and
 * to filter, each; PASS or MISS per figure.
 *
 * Environment overrides: BENCH_ITEMS (50000), BENCH_RUNS (3), BENCH_DIR (scratch folder, default a
 * new one under the OS temp dir, removed at the end), BENCH_KEEP=1 keeps it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { prng } from './data.js';

/** @type {typeof import('../src/view/index.js')} */
const { writeViewer, PAGE_FILE } = await import(new URL('../dist/view/index.js', import.meta.url).href);

const ITEMS = Number(process.env['BENCH_ITEMS'] ?? 50_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const TARGET_MS = 1000;
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (!fs.existsSync(CHROMIUM)) {
  process.stderr.write(`bench:view: Chromium is not at ${CHROMIUM}; install it with apt-get install chromium\n`);
  process.exit(2);
}

const root = new URL('../', import.meta.url);
const dir = process.env['BENCH_DIR'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'xmd-bench-view-'));
fs.mkdirSync(dir, { recursive: true });

// The seed's real files, shared by all the items: 6 photos and the GIF's mp4.
const media = fileURLToPath(new URL('fixtures/media/', root));
const photos = fs.readdirSync(path.join(media, 'pbs.twimg.com/media')).sort();
for (const name of photos) fs.copyFileSync(path.join(media, 'pbs.twimg.com/media', name), path.join(dir, name));
fs.copyFileSync(path.join(media, 'video.twimg.com/tweet_video/EpdichpWMAIPcr0.mp4'), path.join(dir, 'clip.mp4'));

const WORDS = ('the a of to and in is it you that for on with this was at my just so be are have not but we all can your from ' +
  'new code python data model today photo video thread release build test bug fix ship launch coffee morning weekend trip ' +
  'city sunset dog cat garden music concert game team win lost great love thanks everyone finally working again week year').split(' ');

/**
 * @param {number} count
 * @returns {Generator<import('../src/view/index.js').ViewItem>}
 */
function* syntheticItems(count) {
  const next = prng(16);
  const pick = (/** @type {string[]} */ list) => list[Math.floor(next() * list.length)] ?? '';
  let id = 1_800_000_000_000_000_000n;
  for (let i = 0; i < count; i++) {
    id -= BigInt(Math.floor(next() * 4 * 3_600_000)) * 2n ** 22n + 1n; // up to 4 hours apart (about 10 years in all), newest first
    const created = new Date(Number(id >> 22n) + 1288834974657).toISOString();
    const roll = next();
    const type = roll < 0.8 ? 'photo' : roll < 0.92 ? 'video' : 'animated_gif';
    const text = Array.from({ length: 6 + Math.floor(next() * 30) }, () => pick(WORDS)).join(' ') + (next() < 0.02 ? ' zebra' : '');
    yield {
      media_key: `${type === 'photo' ? 3 : type === 'video' ? 7 : 16}_${id - 5n}`,
      type,
      path: type === 'photo' ? pick(photos) : 'clip.mp4',
      bytes: 100_000 + Math.floor(next() * 5_000_000),
      width: 1200,
      height: 800,
      ...(type !== 'photo' && { duration_ms: Math.floor(next() * 120_000) }),
      ...(next() < 0.1 && { alt_text: `A picture of a ${pick(WORDS)} and a ${pick(WORDS)}` }),
      tweet_id: String(id),
      created_at: created,
      username: pick(['omarmhaimdat', 'raymondh', 'hunterwalk']),
      ...(next() < 0.95 && { text }),
    };
  }
}

const writeStart = performance.now();
const rssBefore = process.memoryUsage().rss;
const written = await writeViewer(dir, syntheticItems(ITEMS));
const writeMs = performance.now() - writeStart;
// This process's peak RSS so far (kB) is the write's: Chromium, started below, is another process.
const writerPeakGrowth = process.resourceUsage().maxRSS * 1024 - rssBefore;
const dataBytes = fs.statSync(path.join(dir, 'index.data.js')).size;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'xmd-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 } });

/** One page load and the filters, each timed inside the page. */
async function measure() {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  /** @type {string[]} */
  const outside = [];
  page.on('request', (request) => {
    if (!request.url().startsWith('file://')) outside.push(request.url());
  });
  await page.goto(pathToFileURL(path.join(dir, PAGE_FILE)).href);
  await page.waitForFunction(() => performance.getEntriesByName('xmd:first-tiles').length > 0);
  const { metrics } = await cdp.send('Performance.getMetrics');
  const metric = (/** @type {string} */ name) => metrics.find((m) => m.name === name)?.value ?? NaN;
  const firstTiles = await page.evaluate(() => performance.getEntriesByName('xmd:first-tiles')[0]?.startTime ?? NaN);

  const timed = await page.evaluate(async () => {
    const form = /** @type {HTMLFormElement} */ (document.getElementById('filters'));
    const input = (/** @type {string} */ id, /** @type {string} */ value) => {
      const element = /** @type {HTMLInputElement} */ (document.getElementById(id));
      if (element.type === 'radio') element.checked = true;
      else element.value = value;
    };
    /** Time from changing the filters to the next frame, and how many tiles that frame shows. */
    const time = async (/** @type {() => void} */ change) => {
      const start = performance.now();
      change();
      form.dispatchEvent(new Event('input', { bubbles: true }));
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const ms = performance.now() - start;
      return { ms, shown: document.getElementById('status')?.textContent ?? '' };
    };
    const search = await time(() => input('q', 'zebra'));
    const clearSearch = await time(() => input('q', ''));
    const type = await time(() => input('type-motion', ''));
    const allTypes = await time(() => input('type-all', ''));
    const date = await time(() => {
      input('from', '2023-01-01');
      input('to', '2023-06-30');
    });
    const clearDate = await time(() => {
      input('from', '');
      input('to', '');
    });
    const start = performance.now();
    scrollTo(0, document.documentElement.scrollHeight / 2);
    await new Promise((resolve) => requestAnimationFrame(resolve));
    await new Promise((resolve) => requestAnimationFrame(resolve));
    const scroll = { ms: performance.now() - start, shown: `${document.querySelectorAll('#grid .tile').length} tiles in the DOM` };
    return { search, clearSearch, type, allTypes, date, clearDate, scroll };
  });
  const heap = (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
  await page.close();
  return { firstTiles, scriptMs: metric('ScriptDuration') * 1000, heapMb: heap / 1e6, outside, ...timed };
}

/** @type {Awaited<ReturnType<typeof measure>>[]} */
const runs = [];
for (let i = 0; i < RUNS; i++) runs.push(await measure());
await context.close();
fs.rmSync(profile, { recursive: true, force: true });

/** @param {number[]} values */
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
/** @param {(run: (typeof runs)[number]) => number} of */
const med = (of) => median(runs.map(of));
const ms = (/** @type {number} */ v) => `${v.toFixed(0).padStart(6)} ms`;
const verdict = (/** @type {number} */ v) => (v < TARGET_MS ? 'PASS' : 'MISS');
const first = runs[0];

console.log(`viewer: ${written.items.toLocaleString('en-US')} items, data file ${(dataBytes / 1e6).toFixed(1)} MB, written in ${writeMs.toFixed(0)} ms (writer peak RSS +${(writerPeakGrowth / 1e6).toFixed(0)} MB)`);
console.log(`Chromium ${context.browser()?.version() ?? ''}, medians of ${RUNS} page loads, 1280x800, target < ${TARGET_MS} ms each`);
const rows = [
  ['open: navigation to first tiles', med((r) => r.firstTiles), ''],
  ['open: script time to first tiles', med((r) => r.scriptMs), ''],
  ['text search "zebra"', med((r) => r.search.ms), first?.search.shown],
  ['clear the search', med((r) => r.clearSearch.ms), ''],
  ['type filter: videos & GIFs', med((r) => r.type.ms), first?.type.shown],
  ['back to all types', med((r) => r.allTypes.ms), ''],
  ['date filter: 2023-01-01 to 2023-06-30', med((r) => r.date.ms), first?.date.shown],
  ['clear the dates', med((r) => r.clearDate.ms), ''],
  ['jump to the middle of the grid', med((r) => r.scroll.ms), first?.scroll.shown],
];
for (const [label, value, note] of rows) console.log(`${String(label).padEnd(40)} ${ms(Number(value))}  ${verdict(Number(value))}${note ? `  (${note})` : ''}`);
console.log(`${'JS heap used after the filters'.padEnd(40)} ${med((r) => r.heapMb).toFixed(0).padStart(6)} MB`);
const leaked = runs.flatMap((r) => r.outside);
console.log(leaked.length === 0 ? 'requests: all on file://' : `requests off file://: ${leaked.join(', ')}`);

if (process.env['BENCH_KEEP'] === '1') console.log(`archive kept in ${dir}`);
else if (!process.env['BENCH_DIR']) fs.rmSync(dir, { recursive: true, force: true });
