import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DATA_FILE, PAGE_FILE } from '../src/view/index.js';
import { archiveRun, mediaFiles, REPO, runCli, tempDir, useReplayServers } from './helpers/cli.js';
import { browserMissing, recordClip, useChromium, type PageLog } from './helpers/browser.js';
import { ALL, FILES, MP4, MP4_FILE, mediaWith, seedPages, seedServerPages, T1, tweet, USER } from './helpers/seed.js';
import { jpegOf } from './helpers/tweets.js';

/**
 * Issue 16's `view` command on a real archive: the CLI archives the replay server's account, then
 * `view` writes index.html from the archive alone, and Chromium opens it from file://. A run
 * keeps an existing viewer up to date; items archived before tweets were kept still show.
 */

const serve = useReplayServers();
const ARTIFACTS = path.join(REPO, 'test-artifacts');
const noKey = { env: { AGNTDATA_API_KEY: undefined } };
const viewerFiles = [DATA_FILE, PAGE_FILE];
/** The media files under --out (no viewer, no sidecars). */
const archivedMedia = (out: string) => mediaFiles(out).filter((f) => !viewerFiles.includes(f));

/** The data rows index.data.js holds, by field name, read by running it as the page does. */
function viewData(out: string): Record<string, unknown>[] {
  const sandbox: { window: { xmdViewData?: { fields: string[]; items: unknown[][] } } } = { window: {} };
  vm.runInNewContext(fs.readFileSync(path.join(out, DATA_FILE), 'utf8'), sandbox);
  const data = sandbox.window.xmdViewData;
  if (!data) throw new Error('the data file set nothing');
  return data.items.map((row) => Object.fromEntries(data.fields.map((field, i) => [field, row[i] ?? null])));
}

const seedText = new Map(seedPages().flatMap((page) => page.results.map((t) => [String(t['tweet_id']), String(t['text'])] as const)));
const keyOf = (name: string) => FILES[name]?.media ?? name;

/** Strip the tweets from an archive, as if it were made before they were kept (issue 16). */
function forgetTweets(out: string): void {
  const state = path.join(out, '.x-media-dump');
  const journal = path.join(state, 'journal.jsonl');
  const strip = (entry: Record<string, unknown>): Record<string, unknown> => {
    if (entry['k'] === 'tx') return { ...entry, entries: (entry['entries'] as Record<string, unknown>[]).map(strip) };
    if (entry['k'] !== 'page') return entry;
    const { tweets: _, ...rest } = entry;
    return rest;
  };
  const lines = fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean);
  fs.writeFileSync(journal, lines.map((line) => `${JSON.stringify(strip(JSON.parse(line) as Record<string, unknown>))}\n`).join(''));
  fs.rmSync(path.join(state, 'tweets.jsonl.gz'));
  fs.rmSync(path.join(state, 'index.bin'), { force: true });
}

describe('x-media-dump view, without a browser', () => {
  it('writes index.html and its data from the archive alone: no key, no request, one tile per file on disk', async () => {
    const s = await serve();
    const out = tempDir();
    expect((await archiveRun(s, out, [], { preset: 'strict' })).code).toBe(0);
    s.resetStats();
    const result = await runCli(['view', '--out', out], noKey);
    expect(result).toMatchObject({ code: 0, stdout: '' });
    expect(result.stderr).toBe(`wrote ${path.join(out, PAGE_FILE)}: 7 media, 7 with their tweet's text; open it in a browser (no server needed)\n`);
    expect(s.requests).toHaveLength(0);
    const rows = viewData(out);
    expect(rows.map((r) => r['path']).sort()).toEqual(archivedMedia(out));
    expect(archivedMedia(out)).toEqual(ALL);
    for (const row of rows) expect(row['bytes']).toBe(s.mediaBytes(FILES[String(row['path'])]?.key ?? '')?.length);
    for (const row of rows) {
      const name = String(row['path']);
      expect(row).toMatchObject({ media_key: keyOf(name), tweet_id: name.split('_')[0], bytes: fs.statSync(path.join(out, name)).size, username: 'omarmhaimdat', text: seedText.get(String(row['tweet_id'])) });
    }
    // A file gone from disk is no tile.
    fs.rmSync(path.join(out, MP4_FILE));
    expect((await runCli(['view', '--out', out], noKey)).stderr).toContain(': 6 media, 6 with');
    expect(viewData(out).map((r) => r['path'])).not.toContain(MP4_FILE);
  });

  it('a run keeps an existing viewer up to date, and makes none where there was none', async () => {
    const pages = seedServerPages();
    const s = await serve({ pages, media: mediaWith({ 'pbs.twimg.com/media/NEWcccccccccccc.jpg': jpegOf('a new photo') }) });
    const out = tempDir();
    expect((await archiveRun(s, out)).code).toBe(0);
    expect(fs.existsSync(path.join(out, PAGE_FILE))).toBe(false);
    expect((await runCli(['view', '--out', out], noKey)).code).toBe(0);

    const [p1] = seedPages();
    const fresh = tweet('1600000000000000001', '2023-01-01T00:00:00.000Z', 'NEWcccccccccccc');
    fresh['text'] = 'a brand new tweet about pelicans';
    pages[USER] = [{ results: [fresh, ...(p1?.results ?? [])], continuation_token: T1 }, ...(seedServerPages()[USER] ?? []).slice(1)];
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    const rows = viewData(out);
    expect(rows).toHaveLength(8);
    expect(rows.find((r) => r['tweet_id'] === '1600000000000000001')).toMatchObject({ path: '1600000000000000001_1.jpg', text: 'a brand new tweet about pelicans' });

    // A nightly run that saves nothing leaves it as it is (every tile already has its text).
    const written = fs.statSync(path.join(out, DATA_FILE)).ino;
    const idle = await archiveRun(s, out);
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.stderr).toContain('8 files on disk: 0 new, 8 already archived');
    expect(fs.statSync(path.join(out, DATA_FILE)).ino).toBe(written);

    // A dry run leaves it as it is.
    const before = fs.statSync(path.join(out, DATA_FILE)).ino;
    expect((await archiveRun(s, out, ['--dry-run'])).code).toBe(0);
    expect(fs.statSync(path.join(out, DATA_FILE)).ino).toBe(before);
  });

  it('an archive made before tweets were kept: every file still shows; tweets fetched since bring their text', async () => {
    const s = await serve();
    const out = tempDir();
    expect((await archiveRun(s, out)).code).toBe(0);
    forgetTweets(out);
    const old = await runCli(['view', '--out', out], noKey);
    expect(old.code, old.stderr).toBe(0);
    expect(old.stderr).toContain(': 7 media, 0 with their tweet\'s text');
    expect(viewData(out).every((r) => r['text'] === null)).toBe(true);

    // The nightly run fetches page 1 again: its two tweets are kept from now on.
    expect((await archiveRun(s, out)).code).toBe(0);
    const rows = viewData(out);
    const withText = rows.filter((r) => r['text'] !== null).map((r) => String(r['tweet_id'])).sort();
    expect(withText).toEqual(seedPages()[0]?.results.map((t) => String(t['tweet_id'])).sort());
    expect(rows).toHaveLength(7);
  });

  it('a folder without an archive is exit 2, and nothing is written in it', async () => {
    const dir = tempDir();
    const result = await runCli(['view', '--out', dir], noKey);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`x-media-dump: ${dir} is not an x-media-dump archive (no .x-media-dump/ in it); check --out\n`);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe.skipIf(browserMissing('view-cli.test.ts'))('x-media-dump view, in Chromium from file://', () => {
  let out = '';
  // The real CLI archives the replay server's account (its GIF a real, playable mp4), then `view`.
  const chromium = useChromium(async (browser) => {
    const clip = await recordClip(browser.context);
    const { startReplayServer } = await import('../fixtures/replay-server.js');
    const s = await startReplayServer({ apiKey: 'agnt_live_TESTKEY_5f2c9e1d7b', media: mediaWith({ [MP4]: clip }) });
    try {
      out = tempDir('xmd-view-cli-');
      const run = await archiveRun(s, out);
      if (run.code !== 0) throw new Error(run.stderr);
    } finally {
      await s.close();
    }
    const view = await runCli(['view', '--out', out], noKey);
    if (view.code !== 0) throw new Error(view.stderr);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  const open = (size?: { width: number; height: number }) => chromium.open(path.join(out, PAGE_FILE), size);
  const shownKeys = async (page: Page) => (await page.$$eval('#grid .tile', (tiles) => tiles.map((t) => (t as HTMLElement).dataset['key'] ?? ''))).sort();
  const expectOffline = (log: PageLog) => {
    expect(log.errors).toEqual([]);
    expect(log.requests.length).toBeGreaterThan(0);
    for (const request of log.requests) expect(request.startsWith('file://'), request).toBe(true);
  };

  it('shows one tile per media file on disk, searches tweet text and filters videos, all from file://', async () => {
    const { page, log } = await open();
    const onDisk = archivedMedia(out);
    expect(onDisk).toHaveLength(7);
    expect(await shownKeys(page)).toEqual(onDisk.map(keyOf).sort());
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#grid img')].every((img) => img.complete && img.naturalWidth > 0));
    await page.screenshot({ path: path.join(ARTIFACTS, 'view-cli-desktop.png') });

    // "farts" is in one tweet's text only (fixtures/api/96479162/page-3.json).
    const matching = [...seedText].filter(([, text]) => /\bfarts\b/i.test(text)).map(([id]) => id);
    expect(matching).toEqual(['1490431825918967810']);
    await page.fill('#q', 'farts');
    expect(await shownKeys(page)).toEqual(onDisk.filter((name) => name.startsWith(`${matching[0]}_`)).map(keyOf));
    await page.fill('#q', '');

    await page.click('label[for="type-motion"]');
    const types = await page.$$eval('#grid .tile', (tiles) => tiles.map((t) => (t as HTMLElement).dataset['type']));
    expect(types).toEqual(['animated_gif']);
    expect(await shownKeys(page)).toEqual([keyOf(MP4_FILE)]);
    await page.click('label[for="type-all"]');

    await page.click(`#grid .tile[data-key="${keyOf('1490431825918967810_1.jpg')}"]`);
    expect(await page.textContent('#d-text')).toBe(seedText.get('1490431825918967810'));
    expectOffline(log);
    await page.close();
  });

  it('is readable on a phone', async () => {
    const { page, log } = await open({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBe(390);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#grid img')].every((img) => img.complete && img.naturalWidth > 0));
    await page.screenshot({ path: path.join(ARTIFACTS, 'view-cli-phone.png') });
    expectOffline(log);
    await page.close();
  });
});
