import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { ReplayServer } from '../../fixtures/replay-server.js';
import { listFiles, mediaFiles, ndjson, type CliResult } from './cli.js';
import { FILES, pageOf } from './seed.js';
import { sha256 } from './tweets.js';

/** What the end-to-end tests check after a run: files on disk, requests seen, records printed. */

export function served(s: ReplayServer, key: string): Buffer {
  const bytes = s.mediaBytes(key);
  if (!bytes) throw new Error(`the replay server has no ${key}`);
  return bytes;
}

/** Each named file is on disk, byte-identical to what the server serves. */
export function expectSaved(s: ReplayServer, out: string, names: readonly string[]): void {
  for (const name of names) {
    expect(sha256(fs.readFileSync(path.join(out, name))), name).toBe(sha256(served(s, FILES[name]?.key ?? name)));
  }
}

/** Exactly these media files under --out (state folder aside), each byte-identical to the server's. */
export function expectMedia(s: ReplayServer, out: string, names: readonly string[]): void {
  expect(mediaFiles(out)).toEqual([...names].sort());
  expectSaved(s, out, names);
}

/** Exactly these files (and the journal) under --out: no temp, part or lock files. */
export function expectOnly(out: string, names: readonly string[]): void {
  expect(listFiles(out)).toEqual([...STATE_FILES, ...names].sort());
}

/** What the state folder holds after a run that paged: the journal and the tweets (a snapshot only past 1 MiB). */
export const STATE_FILES = ['.x-media-dump/journal.jsonl', '.x-media-dump/tweets.jsonl.gz'];

/** The state folder's files (anything temporary would show here). */
export const stateFiles = (out: string) => listFiles(out).filter((f) => f.startsWith('.x-media-dump/'));

/** The CDN paths the server was asked for, as fixture keys (size query folded into the name). */
export function cdnKeys(s: ReplayServer): string[] {
  return s
    .cdnRequests()
    .map((r) => {
      const rel = r.path.slice(1);
      const format = r.query['format'];
      return format && !/\.\w+$/.test(rel) ? `${rel}.${format}` : rel;
    })
    .sort();
}

/**
 * The pages the API was asked for, in order, named by the seed's chain: 1 for page 1, 2 for
 * the page after T1, 3 after T2; any other token by itself.
 */
export function pagesAsked(s: ReplayServer): (number | string)[] {
  return s
    .apiRequests()
    .map(pageOf)
    .filter((page) => page !== 0);
}

export function statusOf(stdout: string): Record<string, string> {
  return Object.fromEntries(ndjson(stdout).map((r) => [String(r['media_key']), String(r['status'])]));
}

const STACK_LINE = /^\s*at .+:\d+:\d+\)?$/m;

/** No stack trace on either stream. */
export function expectNoStack(result: CliResult): void {
  expect(result.stderr).not.toMatch(STACK_LINE);
  expect(result.stdout).not.toMatch(STACK_LINE);
}
