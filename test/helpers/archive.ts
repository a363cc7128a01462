import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { expect } from 'vitest';
import { loadFixtureMedia, loadFixturePages, type RecordedRequest, type ReplayHandler, type ReplayServer } from '../../fixtures/replay-server.js';
import { listFiles, mediaFiles, ndjson, runCli, serverArgs, type CliResult } from './cli.js';
import { FILES, MP4, USER } from './seed.js';
import { sha256 } from './tweets.js';

/** What the end-to-end tests share: runs over the seed archive and how to look at the result. */

/** One archive run of the fixture user, short timeouts, no retries, NDJSON on stdout. */
export function archive(s: ReplayServer, out: string, extra: string[] = [], onSpawn?: (child: ChildProcess) => void): Promise<CliResult> {
  return runCli(['--user', USER, '--out', out, ...serverArgs(s), '--retries', '0', '--timeout', '5', '--json', ...extra], onSpawn ? { onSpawn } : {});
}

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
  expect(listFiles(out)).toEqual(['.x-media-dump/journal.jsonl', ...names].sort());
}

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

/** The continuation token of each API request in order; null for page 1. */
export const tokens = (s: ReplayServer) => s.apiRequests().map((r) => r.token ?? null);

export function statusOf(stdout: string): Record<string, string> {
  return Object.fromEntries(ndjson(stdout).map((r) => [String(r['media_key']), String(r['status'])]));
}

export interface JournalState {
  lines: number;
  items: Set<string>;
  files: Map<string, { path: string; sha256: string; bytes: number }>;
  scan: { head?: string; gaps: { token: string; floor?: string }[]; complete: boolean; pages: number } | undefined;
}

/** Replays the journal the way the archive does; every line must parse (`tornTail` allows the last not to). */
export function readJournal(out: string, tornTail = false): JournalState {
  const state: JournalState = { lines: 0, items: new Set(), files: new Map(), scan: undefined };
  let text = '';
  try {
    text = fs.readFileSync(path.join(out, '.x-media-dump', 'journal.jsonl'), 'utf8');
  } catch {
    return state;
  }
  const lines = text.split('\n');
  const last = lines.pop();
  if (last !== '' && !tornTail) throw new Error(`journal ends without a newline: ${last}`);
  const apply = (entry: Record<string, unknown>): void => {
    const k = entry['k'];
    if (k === 'tx') for (const inner of entry['entries'] as Record<string, unknown>[]) apply(inner);
    else if (k === 'item') state.items.add((entry['item'] as { media: { media_key: string } }).media.media_key);
    else if (k === 'file') {
      const file = entry['file'] as { media_key: string; path: string; sha256: string; bytes: number };
      state.files.set(file.media_key, file);
    } else if (k === 'unfile') state.files.delete(String(entry['media_key']));
    else if (k === 'scan') state.scan = entry['scan'] as JournalState['scan'];
  };
  for (const line of lines) {
    apply(JSON.parse(line) as Record<string, unknown>);
    state.lines += 1;
  }
  return state;
}

/** A tweet shaped like the fixture's, with its own id, date and one photo. */
export function tweet(id: string, createdIso: string, photo: string): Record<string, unknown> {
  const copy = structuredClone(pagesOf()[0]?.results[0]) ?? {};
  const url = `https://pbs.twimg.com/media/${photo}.jpg`;
  copy['tweet_id'] = id;
  copy['conversation_id'] = id;
  copy['creation_date'] = createdIso;
  copy['timestamp'] = Date.parse(createdIso) / 1000;
  copy['media_url'] = [url];
  const mediaId = (BigInt(id) - 5n).toString();
  copy['extended_entities'] = { media: [{ id_str: mediaId, media_key: `3_${mediaId}`, media_url_https: url, type: 'photo', ext_media_availability: { status: 'Available' } }] };
  return copy;
}

/** The fixture pages as {results, token} (page 2's envelope opened). */
export function pagesOf(): { results: Record<string, unknown>[]; token: string }[] {
  const pages = loadFixturePages()[USER] ?? [];
  return pages.map((p) => {
    const body = p as { results?: Record<string, unknown>[]; continuation_token?: string; data?: { results: Record<string, unknown>[]; continuation_token: string } };
    const inner = body.data ?? { results: body.results ?? [], continuation_token: body.continuation_token ?? '' };
    return { results: inner.results, token: inner.continuation_token };
  });
}

export function mediaWith(extra: Record<string, Buffer>): Map<string, Buffer> {
  const media = loadFixtureMedia();
  for (const [key, bytes] of Object.entries(extra)) media.set(key, bytes);
  return media;
}

/** A fault for the `handle` hook that holds requests open until the client goes away. */
export interface Stall {
  handle: ReplayHandler;
  /** Resolves once the first request is held (and, for a transfer, half of it sent). */
  reached: Promise<void>;
  /** Lets every later request through. */
  release: () => void;
}

/** Holds `matches` requests, `begin` having started the answer, until the client drops them. */
function stall(matches: (req: RecordedRequest) => boolean, begin: (res: http.ServerResponse, reached: () => void) => void): Stall {
  const reached = deferred();
  let on = true;
  return {
    handle: async (req, res) => {
      if (!on || !matches(req)) return false;
      begin(res, reached.resolve);
      await new Promise((r) => res.on('close', r));
      return true;
    },
    reached: reached.promise,
    release: () => {
      on = false;
    },
  };
}

/** The page asked for with `token` is never answered: a run caught mid-page. */
export function stallPage(token: string): Stall {
  return stall((req) => req.token === token, (_res, reached) => reached());
}

/** The seed's mp4 gets its headers and its first half, then nothing: a run caught mid-download. */
export function stallMp4Halfway(): Stall {
  const bytes = loadFixtureMedia().get(MP4);
  if (!bytes) throw new Error(`the fixtures have no ${MP4}`);
  return stall(
    (req) => req.path === `/${MP4}`,
    (res, reached) => {
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': String(bytes.length) });
      res.write(bytes.subarray(0, bytes.length >> 1), reached);
    },
  );
}

export function deferred<T = void>() {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The pid of a process that has exited. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => child.on('exit', r));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}
