import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { loadFixtureMedia } from '../fixtures/replay-server.js';
import { normalizeTweet } from '../src/media/normalize.js';
import { ViewWriteError } from '../src/errors.js';
import { DATA_FILE, PAGE_FILE, writeViewer, type ViewItem } from '../src/view/index.js';
import { REPO, tempDir } from './helpers/cli.js';
import { browserMissing, recordClip, useChromium, type PageLog } from './helpers/browser.js';
import { FILES, MP4_FILE, seedPages } from './helpers/seed.js';

/** Screenshots and other things worth a look after a run; git-ignored. */
const ARTIFACTS = path.join(REPO, 'test-artifacts');
/** The seed tweet whose text the fixture archive leaves out, as if archived before tweets were kept. */
const NO_TEXT_TWEET = '1513260712587669517';
const HOSTILE_TEXT = '</script><img src=x onerror="window.__pwned=1"> <b>bold</b> "quoted" \'single\' \u2028line\u2029para \u202Eevil\u202C <!-- x';
const HOSTILE_ALT = '"><script>window.__pwned=2</script><svg onload="window.__pwned=3">';

const byMediaKey = new Map(Object.entries(FILES).map(([name, file]) => [file.media, { name, ...file }]));
const tweetOf = (name: string) => name.split('_')[0] ?? '';
const seedTexts = new Map(seedPages().flatMap((page) => page.results.map((tweet) => [String(tweet['tweet_id']), String(tweet['text'])] as const)));

/** The seed's media files copied to the names an archive run gives them, and their ViewItems. */
function seedArchive(out: string, clip: Buffer): ViewItem[] {
  const media = loadFixtureMedia();
  const items: ViewItem[] = [];
  for (const page of seedPages()) {
    for (const raw of page.results) {
      for (const { media: m, tweet } of normalizeTweet(raw).items) {
        const file = byMediaKey.get(m.media_key);
        if (!file) throw new Error(`no seed file for ${m.media_key}`);
        const bytes = file.name === MP4_FILE ? clip : media.get(file.key);
        if (!bytes) throw new Error(`no fixture media ${file.key}`);
        fs.writeFileSync(path.join(out, file.name), bytes);
        const text = tweet.tweet_id === NO_TEXT_TWEET ? undefined : seedTexts.get(tweet.tweet_id);
        items.push({
          media_key: m.media_key,
          type: m.type,
          path: file.name,
          bytes: bytes.length,
          ...(m.width !== undefined && { width: m.width }),
          ...(m.height !== undefined && { height: m.height }),
          ...(m.duration_ms !== undefined && { duration_ms: m.duration_ms }),
          ...(m.alt_text !== undefined && { alt_text: m.alt_text }),
          tweet_id: tweet.tweet_id,
          ...(tweet.created_at !== undefined && { created_at: tweet.created_at }),
          ...(tweet.username !== undefined && { username: tweet.username }),
          ...(text !== undefined && { text }),
        });
      }
    }
  }
  return items;
}

/** The rows index.data.js holds, read by running it the way the page does. */
function readData(out: string): { version: number; fields: string[]; items: unknown[][] } {
  const sandbox: { window: { xmdViewData?: { version: number; fields: string[]; items: unknown[][] } } } = { window: {} };
  vm.runInNewContext(fs.readFileSync(path.join(out, DATA_FILE), 'utf8'), sandbox);
  if (!sandbox.window.xmdViewData) throw new Error('the data file set nothing');
  return sandbox.window.xmdViewData;
}

const photo = (n: number, extra: Partial<ViewItem> = {}): ViewItem => ({
  media_key: `3_${n}`,
  type: 'photo',
  path: `${n}_1.jpg`,
  bytes: 1000 + n,
  tweet_id: String(1_500_000_000_000_000_000n + BigInt(n)),
  created_at: '2022-04-23T22:34:21.000Z',
  username: 'someone',
  ...extra,
});

describe('writeViewer', () => {
  it('writes index.html and its data file, the same bytes every time, with no temp file left', async () => {
    const out = tempDir('xmd-view-');
    const items = [photo(1, { text: 'first' }), photo(2, { alt_text: 'a cat', width: 10, height: 20 }), photo(3, { type: 'video', duration_ms: 12345 })];
    expect(await writeViewer(out, items)).toEqual({ items: 3 });
    const first = [fs.readFileSync(path.join(out, PAGE_FILE)), fs.readFileSync(path.join(out, DATA_FILE))];
    expect(await writeViewer(out, items)).toEqual({ items: 3 });
    expect(fs.readFileSync(path.join(out, PAGE_FILE)).equals(first[0] ?? Buffer.alloc(0))).toBe(true);
    expect(fs.readFileSync(path.join(out, DATA_FILE)).equals(first[1] ?? Buffer.alloc(0))).toBe(true);
    expect(fs.readdirSync(out).sort()).toEqual([DATA_FILE, PAGE_FILE]);
    const data = readData(out);
    expect(data.items).toHaveLength(3);
    expect(Object.fromEntries(data.fields.map((field, i) => [field, data.items[1]?.[i] ?? null]))).toEqual({
      media_key: '3_2', type: 'photo', path: '2_1.jpg', bytes: 1002, width: 10, height: 20, duration_ms: null, alt_text: 'a cat',
      tweet_id: '1500000000000000002', created_at: '2022-04-23T22:34:21.000Z', username: 'someone', text: null, source_tweet_id: null, source_username: null,
    });
  });

  it('keeps hostile text as data: nothing in the file can close a script or break a line, and it reads back exactly', async () => {
    const out = tempDir('xmd-view-');
    await writeViewer(out, [photo(1, { text: HOSTILE_TEXT, alt_text: HOSTILE_ALT, username: '"><img src=x>' })]);
    const raw = fs.readFileSync(path.join(out, DATA_FILE), 'utf8');
    expect(raw).not.toMatch(/<\/script|<img|<svg|<!--|\u2028|\u2029/i);
    const row = readData(out).items[0] ?? [];
    expect(row[7]).toBe(HOSTILE_ALT);
    expect(row[10]).toBe('"><img src=x>');
    expect(row[11]).toBe(HOSTILE_TEXT);
    // The page itself holds no archive data at all.
    expect(fs.readFileSync(path.join(out, PAGE_FILE), 'utf8')).not.toContain('someone');
  });

  it('streams: rows reach the disk while the items are still coming', async () => {
    const out = tempDir('xmd-view-');
    let seenOnDisk = 0;
    async function* items(): AsyncGenerator<ViewItem> {
      for (let n = 0; n < 20_000; n++) {
        if (n === 19_999) {
          const temp = fs.readdirSync(out).find((name) => name.startsWith(`.${DATA_FILE}.`));
          seenOnDisk = temp ? fs.statSync(path.join(out, temp)).size : 0;
        }
        yield photo(n, { text: `tweet number ${n} with some words in it` });
      }
    }
    expect(await writeViewer(out, items())).toEqual({ items: 20_000 });
    const size = fs.statSync(path.join(out, DATA_FILE)).size;
    expect(seenOnDisk).toBeGreaterThan(size * 0.9);
  });

  it('leaves the viewer already there untouched when the items fail part-way', async () => {
    const out = tempDir('xmd-view-');
    await writeViewer(out, [photo(1)]);
    const before = fs.readFileSync(path.join(out, DATA_FILE));
    function* failing(): Generator<ViewItem> {
      yield photo(2);
      throw new Error('the archive could not be read');
    }
    await expect(writeViewer(out, failing())).rejects.toThrow('the archive could not be read');
    expect(fs.readFileSync(path.join(out, DATA_FILE)).equals(before)).toBe(true);
    expect(fs.readdirSync(out).sort()).toEqual([DATA_FILE, PAGE_FILE]);
  });

  it('says which file it cannot write, and why', async () => {
    const parent = tempDir('xmd-view-');
    const notAFolder = path.join(parent, 'file');
    fs.writeFileSync(notAFolder, '');
    const error = await writeViewer(notAFolder, [photo(1)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ViewWriteError);
    expect((error as ViewWriteError).exitCode).toBe(1);
    expect((error as Error).message).toBe(`cannot write ${notAFolder} (ENOTDIR); free some space or make the folder writable, then run view again`);
  });

  it('removes temp files a killed writer left, and only those', async () => {
    const out = tempDir('xmd-view-');
    const dead = path.join(out, `.${DATA_FILE}.999999999.1.tmp`);
    const alive = path.join(out, `.${PAGE_FILE}.${process.ppid}.1.tmp`);
    fs.writeFileSync(dead, 'partial');
    fs.writeFileSync(alive, 'partial');
    fs.writeFileSync(path.join(out, 'note.tmp'), 'mine');
    await writeViewer(out, []);
    expect(fs.readdirSync(out).sort()).toEqual([`.${PAGE_FILE}.${process.ppid}.1.tmp`, DATA_FILE, PAGE_FILE, 'note.tmp'].sort());
    expect(fs.existsSync(alive)).toBe(true);
  });
});

describe.skipIf(browserMissing('view.test.ts'))('the viewer in Chromium, from file://', () => {
  let seed = '';
  const chromium = useChromium(async (browser) => {
    seed = tempDir('xmd-view-seed-');
    await writeViewer(seed, seedArchive(seed, await recordClip(browser.context)));
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  const open = (dir: string, size?: { width: number; height: number }) => chromium.open(path.join(dir, PAGE_FILE), size);
  const shownKeys = (page: Page) => page.$$eval('#grid .tile', (tiles) => tiles.map((t) => (t as HTMLElement).dataset['key'] ?? ''));
  const keysOf = (names: string[]) => names.map((name) => FILES[name]?.media ?? name);
  /** File names newest first, from the seed table's creation times. */
  const newestFirst = (names: string[]) => [...names].sort((a, b) => Date.parse(FILES[b]?.created ?? '') - Date.parse(FILES[a]?.created ?? ''));
  /** The GIF loops on its own; once it plays, its play icon has faded out (a steady screenshot). */
  const gifPlaying = (page: Page) =>
    page.waitForFunction(() => {
      const icon = document.querySelector('.tile.playing .play');
      return icon !== null && getComputedStyle(icon).opacity === '0';
    });
  const expectClean = (log: PageLog) => {
    expect(log.errors).toEqual([]);
    expect(log.dialogs).toEqual([]);
    expect(log.requests.length).toBeGreaterThan(0);
    for (const request of log.requests) expect(request.startsWith('file://'), request).toBe(true);
  };

  it('shows one tile per media file, newest first, with every request on file://', async () => {
    const { page, log } = await open(seed);
    const files = fs.readdirSync(seed).filter((name) => name !== PAGE_FILE && name !== DATA_FILE);
    expect(files).toHaveLength(7);
    expect(await shownKeys(page)).toEqual(keysOf(newestFirst(files)));
    expect(await page.textContent('#title')).toBe('@omarmhaimdat');
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#grid img')].every((img) => img.complete && img.naturalWidth > 0));
    expect(await page.locator('#grid video[preload="none"]').count()).toBe(1);
    expect(await page.locator('#grid img[loading="lazy"]').count()).toBe(6);
    await gifPlaying(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-desktop.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.hover(`#grid .tile[data-key="${FILES['1490431825918967810_1.jpg']?.media}"]`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-desktop-dark.png') });
    expectClean(log);
    await page.close();
  });

  it('is laid out for a phone', async () => {
    const { page, log } = await open(seed, { width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBe(390);
    const widths = await page.$$eval('#grid .tile', (tiles) => tiles.map((t) => t.getBoundingClientRect().width));
    const columns = await page.$$eval('#grid .tile', (tiles) => new Set(tiles.map((t) => t.getBoundingClientRect().left)).size);
    expect(columns).toBe(3);
    for (const width of widths) expect(width).toBeGreaterThan(100);
    await gifPlaying(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-phone.png') });
    await page.click(`#grid .tile[data-key="${FILES['1517995317697916928_1.jpg']?.media}"]`);
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('#d-stage img')?.naturalWidth ?? 0) > 0);
    expect(await page.evaluate(() => document.getElementById('detail')?.getBoundingClientRect().width)).toBe(390);
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-phone-detail.png') });
    expectClean(log);
    await page.close();
  });

  it('searches tweet text: a word from one tweet shows exactly that tweet’s media', async () => {
    const word = 'farts';
    const tweets = [...seedTexts].filter(([id, text]) => id !== NO_TEXT_TWEET && text.toLowerCase().includes(word)).map(([id]) => id);
    expect(tweets).toHaveLength(1);
    const { page, log } = await open(seed);
    await page.fill('#q', 'FARTS');
    expect(await shownKeys(page)).toEqual(keysOf(Object.keys(FILES).filter((name) => tweetOf(name) === tweets[0])));
    await page.fill('#q', 'batman thinking');
    expect(await shownKeys(page)).toEqual(keysOf([MP4_FILE]));
    await page.fill('#q', 'no such words anywhere');
    expect(await shownKeys(page)).toEqual([]);
    expect(await page.isVisible('#empty')).toBe(true);
    await page.click('#empty-clear');
    expect(await shownKeys(page)).toHaveLength(7);
    expectClean(log);
    await page.close();
  });

  it('filters by type and by date range', async () => {
    const { page, log } = await open(seed);
    await page.click('label[for="type-motion"]');
    const motion = await page.$$eval('#grid .tile', (tiles) => tiles.map((t) => (t as HTMLElement).dataset['type']));
    expect(motion).toEqual(['animated_gif']);
    expect(await shownKeys(page)).toEqual(keysOf([MP4_FILE]));
    await page.click('label[for="type-photo"]');
    expect(await shownKeys(page)).toEqual(keysOf(newestFirst(Object.keys(FILES).filter((name) => name.endsWith('.jpg')))));
    await page.click('label[for="type-all"]');

    await page.fill('#from', '2022-02-06');
    await page.fill('#to', '2022-04-10');
    const inRange = Object.keys(FILES).filter((name) => {
      const day = FILES[name]?.created.slice(0, 10) ?? '';
      return day >= '2022-02-06' && day <= '2022-04-10';
    });
    expect(inRange).toHaveLength(3);
    expect(await shownKeys(page)).toEqual(keysOf(newestFirst(inRange)));
    expect(await page.textContent('#status')).toBe('Showing 3 of 7 items, newest first');
    await page.click('#clear');
    expect(await shownKeys(page)).toHaveLength(7);
    expect(await page.isVisible('#clear')).toBe(false);
    expectClean(log);
    await page.close();
  });

  it('opens an item large with its text, date, sizes and a link to the tweet', async () => {
    const { page, log } = await open(seed);
    const name = '1490431825918967810_1.jpg';
    await page.click(`#grid .tile[data-key="${FILES[name]?.media}"]`);
    expect(await page.isVisible('#detail')).toBe(true);
    expect(await page.textContent('#d-text')).toBe(seedTexts.get(tweetOf(name)));
    expect(await page.getAttribute('#d-link', 'href')).toBe(`https://x.com/omarmhaimdat/status/${tweetOf(name)}`);
    expect(await page.textContent('#d-who')).toBe('@omarmhaimdat');
    expect(await page.getAttribute('#d-when', 'datetime')).toBe('2022-02-06T21:06:52.000Z');
    const meta = await page.$$eval('#d-meta dd', (dds) => dds.map((dd) => dd.textContent));
    const bytes = fs.statSync(path.join(seed, name)).size;
    expect(meta).toEqual(['Photo', `${(bytes / 1000).toFixed(1)} KB (${bytes.toLocaleString('en-US')} bytes)`, '2,320 × 3,088', name, tweetOf(name)]);
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('#d-stage img')?.naturalWidth ?? 0) > 0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-detail.png') });
    expectClean(log);
    await page.close();
  });

  it('shows an item archived before tweets were kept, with its media fields', async () => {
    const { page, log } = await open(seed);
    const name = `${NO_TEXT_TWEET}_1.jpg`;
    await page.click(`#grid .tile[data-key="${FILES[name]?.media}"]`);
    expect(await page.isVisible('#d-notext')).toBe(true);
    expect(await page.isVisible('#d-text')).toBe(false);
    expect(await page.$$eval('#d-meta dd', (dds) => dds[2]?.textContent)).toBe('946 × 2,048');
    expect(await page.getAttribute('#d-link', 'href')).toBe(`https://x.com/omarmhaimdat/status/${NO_TEXT_TWEET}`);
    expectClean(log);
    await page.close();
  });

  it('plays a video from its local file', async () => {
    const { page, log } = await open(seed);
    await page.click(`#grid .tile[data-key="${FILES[MP4_FILE]?.media}"]`);
    await page.waitForFunction(() => {
      const video = document.querySelector<HTMLVideoElement>('#d-stage video');
      return video !== null && (video.readyState >= 1 || !video.paused);
    });
    const video = await page.$eval('#d-stage video', (v) => ({ src: (v as HTMLVideoElement).currentSrc, error: (v as HTMLVideoElement).error?.code ?? null }));
    expect(video).toEqual({ src: pathToFileURL(path.join(seed, MP4_FILE)).href, error: null });
    expect(await page.$$eval('#d-alt', (p) => p[0]?.textContent)).toBe('Batman Thinking GIF');
    expectClean(log);
    await page.close();
  });

  it('works from the keyboard: Tab reaches a tile, Enter opens it, arrows step, Escape closes it', async () => {
    const { page, log } = await open(seed);
    const onTile = () => page.evaluate(() => document.activeElement?.classList.contains('tile') ?? false);
    let presses = 0;
    while (!(await onTile()) && presses < 20) {
      await page.keyboard.press('Tab');
      presses += 1;
    }
    expect(await onTile()).toBe(true);
    const first = await page.evaluate(() => (document.activeElement as HTMLElement).dataset['key']);
    expect(first).toBe((await shownKeys(page))[0]);
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset['index'])).toBe('1');
    await page.keyboard.press('Enter');
    expect(await page.isVisible('#detail')).toBe(true);
    expect(await page.textContent('#d-pos')).toBe('2 of 7');
    await page.keyboard.press('ArrowRight');
    expect(await page.textContent('#d-pos')).toBe('3 of 7');
    await page.keyboard.press('Escape');
    expect(await page.isVisible('#detail')).toBe(false);
    // Focus comes back to the tile of the item last shown (once the dialog's close event has run).
    await page.waitForFunction(() => (document.activeElement as HTMLElement).dataset['index'] === '2', undefined, { timeout: 2000 }).catch(() => undefined);
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset['index'])).toBe('2');
    expectClean(log);
    await page.close();
  });

  it('renders hostile text as text: no markup, no script', async () => {
    const out = tempDir('xmd-view-hostile-');
    const name = 'odd name #1 ?x=%41 é.jpg';
    const jpeg = loadFixtureMedia().get('pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg') ?? Buffer.alloc(0);
    fs.writeFileSync(path.join(out, name), jpeg);
    await writeViewer(out, [photo(1, { path: name, bytes: jpeg.length, text: HOSTILE_TEXT, alt_text: HOSTILE_ALT, username: '"><img src=x onerror=alert(1)>' })]);
    const { page, log } = await open(out);
    await page.click('#grid .tile');
    expect(await page.textContent('#d-text')).toBe(HOSTILE_TEXT);
    expect(await page.textContent('#d-alt')).toBe(HOSTILE_ALT);
    expect(await page.textContent('#d-who')).toBe('@"><img src=x onerror=alert(1)>');
    // Not a valid handle: the link goes through x.com/i/ instead.
    expect(await page.getAttribute('#d-link', 'href')).toBe('https://x.com/i/status/1500000000000000001');
    expect(await page.locator('img[src="x"], svg[onload]').count()).toBe(0);
    expect(await page.locator('b', { hasText: /^bold$/ }).count()).toBe(0);
    expect(await page.locator('script').count()).toBe(2);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('#d-stage img')?.naturalWidth ?? 0) > 0);
    // A blocked inline handler or script would show here too: Chromium logs every CSP violation as a console error.
    expectClean(log);
    await page.close();
  });

  it('orders by date, then by tweet id as a number; an item without a date goes by its snowflake', async () => {
    const out = tempDir('xmd-view-order-');
    const jpeg = loadFixtureMedia().get('pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg') ?? Buffer.alloc(0);
    const same = '2022-04-23T22:34:21.000Z';
    const items = [
      photo(1, { media_key: 'old', tweet_id: '20', created_at: '2009-01-01T00:00:00Z' }),
      photo(2, { media_key: 'shorter-id', tweet_id: '999999999999999999', created_at: same }),
      photo(3, { media_key: 'longer-id', tweet_id: '1000000000000000000', created_at: same }),
      // No created_at: snowflake 1517995317697916928 holds 2022-04-23T22:34:21.385Z (ms since 1288834974657, above bit 22), just after `same`.
      { media_key: 'snowflake', type: 'photo' as const, path: 'snowflake.jpg', bytes: jpeg.length, tweet_id: '1517995317697916928', source_tweet_id: '1513801473074896899', source_username: 'raymondh' },
    ];
    for (const item of items) fs.writeFileSync(path.join(out, item.path), jpeg);
    await writeViewer(out, items);
    const { page, log } = await open(out);
    expect(await shownKeys(page)).toEqual(['snowflake', 'longer-id', 'shorter-id', 'old']);
    await page.click('#grid .tile[data-key="snowflake"]');
    expect(await page.getAttribute('#d-when', 'datetime')).toBe('2022-04-23T22:34:21.385Z');
    expect(await page.textContent('#d-who')).toBe('Unknown account');
    expect(await page.getAttribute('#d-link', 'href')).toBe('https://x.com/i/status/1517995317697916928');
    expect(await page.textContent('#d-source')).toBe('Original post by @raymondh');
    expect(await page.getAttribute('#d-source', 'href')).toBe('https://x.com/raymondh/status/1513801473074896899');
    expectClean(log);
    await page.close();
  });

  it('has a CSP that refuses any URL but the files beside the page', async () => {
    const { page, log } = await open(seed);
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(`${request.url()} ${request.failure()?.errorText ?? ''}`));
    const blocked = await page.evaluate(async () => {
      const seen: string[] = [];
      document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.effectiveDirective} ${event.blockedURI}`));
      const img = document.createElement('img');
      img.src = 'https://pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg';
      document.body.append(img);
      const fetched = await fetch('http://127.0.0.1:9/').then(() => 'fetched', () => 'refused');
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { seen: seen.sort(), fetched };
    });
    expect(blocked).toEqual({ seen: ['connect-src http://127.0.0.1:9/', 'img-src https://pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg'], fetched: 'refused' });
    // Chromium reports the image as a request, stopped before it left: blocked by the CSP.
    expect(log.requests.filter((request) => !request.startsWith('file://'))).toEqual(['https://pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg']);
    expect(failed).toEqual(['https://pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg csp']);
    await page.close();
  });

  it('says so when the archive is empty, or when the data file is missing', async () => {
    const out = tempDir('xmd-view-empty-');
    await writeViewer(out, []);
    const { page, log } = await open(out);
    expect(await page.textContent('#empty-title')).toBe('No media in this archive yet');
    expect(await page.locator('#grid .tile').count()).toBe(0);
    expectClean(log);
    fs.rmSync(path.join(out, DATA_FILE));
    await page.reload();
    await page.waitForSelector('#empty:not([hidden])');
    expect(await page.textContent('#empty-title')).toBe('The archive data is missing');
    await page.close();
  });
});
