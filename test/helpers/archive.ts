import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { loadFixtureMedia, loadFixturePages, startReplayServer, type ReplayServer, type ReplayServerOptions } from '../../fixtures/replay-server.js';
import { listFiles, ndjson, runCli, serverArgs, TEST_KEY, type CliResult } from './cli.js';

/** What the cron, crash and state tests share: the fixture archive and how to look at it. */

export const USER = '96479162';
export const T1 = 'DAABCgABFu-OJkw___gKAAIVmAq8iZYgAggAAwAAAAIAAA'; // page 1's continuation token
export const T2 = 'DAABCgABFu-OJkw__-8KAAISl2Jz9RcQAAgAAwAAAAIAAA'; // page 2's

/** The fixture files: name under --out → CDN key, media key, tweet creation time, page. */
export const FILES: Record<string, { key: string; media: string; created: string; page: number }> = {
  '1517995317697916928_1.jpg': { key: 'pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg', media: '3_1517995312715079686', created: '2022-04-23T22:34:21Z', page: 1 },
  '1513801473074896899_1.jpg': { key: 'pbs.twimg.com/media/FQIaaadXMAQU4E8.jpg', media: '3_1513801465831305220', created: '2022-04-12T08:49:30Z', page: 1 },
  '1513260712587669517_1.jpg': { key: 'pbs.twimg.com/media/FQAulhzX0A8OtrC.jpg', media: '3_1513260697060364303', created: '2022-04-10T21:00:43Z', page: 2 },
  '1497526869406670848_1.jpg': { key: 'pbs.twimg.com/media/FMhIvohWYAMjGv3.jpg', media: '3_1497526859269038083', created: '2022-02-26T11:00:03Z', page: 2 },
  '1490431825918967810_1.jpg': { key: 'pbs.twimg.com/media/FK8T1ogX0AcWyo0.jpg', media: '3_1490431813810114567', created: '2022-02-06T21:06:52Z', page: 3 },
  '1401511472413487106_1.jpg': { key: 'pbs.twimg.com/media/E3MrPovWYAI64-i.jpg', media: '3_1401511456676405250', created: '2021-06-06T12:09:08Z', page: 3 },
  '1339647664338702336_1.mp4': { key: 'video.twimg.com/tweet_video/EpdichpWMAIPcr0.mp4', media: '16_1339647656373661698', created: '2020-12-17T19:04:27Z', page: 3 },
};
export const ALL = Object.keys(FILES).sort();
export const onPages = (...pages: number[]) => ALL.filter((name) => pages.includes(FILES[name]?.page ?? 0));
export const keysOf = (names: readonly string[]) => names.map((n) => FILES[n]?.key ?? n).sort();

const servers: ReplayServer[] = [];

/** A replay server that checks the test key; closed by `closeServers` (call it in afterEach). */
export async function server(options: ReplayServerOptions = {}): Promise<ReplayServer> {
  const s = await startReplayServer({ apiKey: TEST_KEY, ...options });
  servers.push(s);
  return s;
}

export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.close()));
}

/** One archive run of the fixture user, short timeouts, no retries, NDJSON on stdout. */
export function archive(s: ReplayServer, out: string, extra: string[] = [], onSpawn?: (child: ChildProcess) => void): Promise<CliResult> {
  return runCli(['--user', USER, '--out', out, ...serverArgs(s), '--retries', '0', '--timeout', '5', '--json', ...extra], onSpawn ? { onSpawn } : {});
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

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
