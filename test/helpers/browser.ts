/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate callbacks run in the browser. (Only the typecheck sees DOM types: the build of src/ does not.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

/** Debian's Chromium: the tests drive it and never download a browser of their own. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);

/** Flags that keep Chromium off the network: without them it reaches for Google's hosts at start. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile folder, removed again on close. */
export async function launchChromium(): Promise<Browser> {
  if (!hasChromium) throw new Error(`Chromium is not at ${CHROMIUM}: install it with apt-get install chromium`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'xmd-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** What a page did that a test may want to forbid: every request URL, errors, CSP violations, dialogs. */
export interface PageLog {
  requests: string[];
  errors: string[];
  dialogs: string[];
}

/** A new page whose requests, script errors, console errors and dialogs are recorded from the start. */
export async function loggedPage(context: BrowserContext): Promise<{ page: Page; log: PageLog }> {
  const page = await context.newPage();
  const log: PageLog = { requests: [], errors: [], dialogs: [] };
  page.on('request', (request) => log.requests.push(request.url()));
  page.on('pageerror', (error) => log.errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') log.errors.push(`console.${message.type()}: ${message.text()}`);
  });
  page.on('dialog', (dialog) => {
    log.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return { page, log };
}

/**
 * A short real H.264 mp4, encoded by Chromium's own MediaRecorder from a canvas: the seed's mp4
 * is a placeholder no decoder accepts, and a test of playback needs one that plays.
 */
export async function recordClip(context: BrowserContext): Promise<Buffer> {
  const page = await context.newPage();
  try {
    const base64 = await page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 96;
      canvas.height = 64;
      const g = canvas.getContext('2d');
      if (!g) throw new Error('no 2d canvas');
      let frame = 0;
      const draw = () => {
        g.fillStyle = `hsl(${(frame * 37) % 360} 70% 50%)`;
        g.fillRect(0, 0, 96, 64);
        frame += 1;
      };
      draw();
      const timer = setInterval(draw, 33);
      const recorder = new MediaRecorder(canvas.captureStream(30), { mimeType: 'video/mp4;codecs=avc1' });
      const chunks: Blob[] = [];
      recorder.ondataavailable = (event) => chunks.push(event.data);
      const stopped = new Promise((resolve) => (recorder.onstop = resolve));
      recorder.start();
      await new Promise((resolve) => setTimeout(resolve, 500));
      recorder.stop();
      await stopped;
      clearInterval(timer);
      const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
      let binary = '';
      for (const byte of bytes) binary += String.fromCharCode(byte);
      return btoa(binary);
    });
    return Buffer.from(base64, 'base64');
  } finally {
    await page.close();
  }
}

/** Without Chromium a developer's run skips the browser tests with a note; CI (CI set) runs them and fails. */
export function browserMissing(testFile: string): boolean {
  const missing = !hasChromium && !process.env['CI'];
  if (missing) console.warn(`${testFile}: ${CHROMIUM} is missing, so the browser tests are skipped (apt-get install chromium to run them)`);
  return missing;
}

/**
 * Call inside a describe: one Chromium for its tests, and `prepare` run once it is up. A failed
 * launch or preparation fails every test with its message (under CI), not only the hook.
 * `open(file)` loads a viewer page from file:// and waits for its first tiles (or its empty notice).
 */
export function useChromium(prepare: (browser: Browser) => Promise<void>) {
  let browser: Browser | undefined;
  let setupError: unknown;
  beforeAll(async () => {
    try {
      browser = await launchChromium();
      await prepare(browser);
    } catch (error) {
      setupError = error;
    }
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  return {
    async open(file: string, size = { width: 1280, height: 800 }): Promise<{ page: Page; log: PageLog }> {
      if (!browser || setupError !== undefined) throw setupError;
      const { page, log } = await loggedPage(browser.context);
      await page.setViewportSize(size);
      await page.goto(pathToFileURL(file).href);
      await page.waitForFunction(() => performance.getEntriesByName('xmd:first-tiles').length > 0 || !document.getElementById('empty')?.hidden);
      return { page, log };
    },
  };
}
