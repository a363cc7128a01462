import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JournalState, readJournal } from './helpers/journal.js';
import { deadPid, deferred, stallMp4Halfway, stallPage } from './helpers/faults.js';
import { cdnKeys, expectOnly, expectSaved, pagesAsked } from './helpers/expect.js';
import type { RecordedRequest, ReplayServer } from '../fixtures/replay-server.js';
import { archiveRun, listFiles, tempDir, useReplayServers } from './helpers/cli.js';
import { ALL, FILES, keysOf, MP4_FILE, onPages, T1, T2 } from './helpers/seed.js';

/**
 * `kill -9` at chosen instants, then a rerun: the archive must come back byte-identical to what
 * the server serves, with no temp files, and the rerun must ask only for what the journal says
 * is still missing (no page whose progress was saved, no file that was recorded).
 */

const serve = useReplayServers();

/** The pages a rerun must ask for, given where the journal says paging stands. */
function pagesStillDue(state: JournalState): number[] {
  const gap = state.scan?.gaps[0]?.token;
  if (state.scan?.complete) return [1];
  if (gap === T2) return [1, 3];
  return [1, 2, 3];
}

/** Files the journal does not record: the rerun fetches exactly these. */
function filesStillDue(state: JournalState): string[] {
  return ALL.filter((name) => !state.files.has(FILES[name]?.media ?? ''));
}

/** After the kill: the rerun completes, asks for exactly what was due, and leaves a clean archive. */
async function expectRecovery(s: ReplayServer, out: string, state: JournalState): Promise<void> {
  // What was recorded is really on disk, whole.
  for (const [, file] of state.files) expectSaved(s, out, [file.path]);
  s.resetStats();
  const rerun = await archiveRun(s, out);
  expect(rerun.code, rerun.stderr).toBe(0);
  expect(pagesAsked(s)).toEqual(pagesStillDue(state));
  expect(cdnKeys(s)).toEqual(keysOf(filesStillDue(state)));
  expect(rerun.stderr).toContain('history: complete');
  expectSaved(s, out, ALL);
  expectOnly(out, ALL);
  const after = readJournal(out);
  expect(after.files.size).toBe(7);
  expect(after.scan?.gaps).toEqual([]);
}

/** Runs the CLI and SIGKILLs it when `trigger` resolves; returns once it is dead. */
async function killedAt(s: ReplayServer, out: string, trigger: Promise<void>, extra: string[] = []): Promise<void> {
  let child: ChildProcess | undefined;
  const running = archiveRun(s, out, extra, { onSpawn: (c) => (child = c) });
  await Promise.race([trigger, running]);
  child?.kill('SIGKILL');
  const result = await running;
  expect(result.signal, result.stderr).toBe('SIGKILL');
}

describe('kill -9', () => {
  it('mid-page: the unanswered page is asked for again, nothing else', async () => {
    const stall = stallPage(T1);
    const s = await serve({ handle: stall.handle });
    const out = tempDir();
    await killedAt(s, out, stall.reached);
    const state = readJournal(out);
    // Page 1 was journaled with its progress before page 2 was asked for.
    expect(state.scan?.gaps).toEqual([{ token: T1, notAfter: '2022-04-12T08:49:30.000Z' }]);
    expect([...state.items].sort()).toEqual(onPages(1).map((n) => FILES[n]?.media).sort());
    stall.release();
    await expectRecovery(s, out, state);
  });

  it('mid-download: the half-written temp file is cleared and only unrecorded files are fetched', async () => {
    const stall = stallMp4Halfway();
    const s = await serve({ handle: stall.handle });
    const out = tempDir();
    await killedAt(s, out, stall.reached);
    const state = readJournal(out);
    expect(state.scan?.complete).toBe(true);
    expect(state.files.has(FILES[MP4_FILE]?.media ?? '')).toBe(false);
    expect(listFiles(out)).not.toContain(MP4_FILE);
    stall.release();
    await expectRecovery(s, out, state);
  });

  // With one download at a time, each request goes out right after the journal line for the
  // step before it (a page's media and progress, or a saved file): killing as request n
  // arrives lands just after a journal append, at every step of a run in turn.
  it('right after each journal append of a run, the next run recovers exactly', async () => {
    for (let n = 1; n <= 10; n++) {
      const reached = deferred();
      let count = 0;
      let killing = true;
      const s = await serve({
        handle: async (_req: RecordedRequest, res) => {
          if (!killing || ++count !== n) return false;
          reached.resolve();
          await new Promise((r) => res.on('close', r));
          return true;
        },
      });
      const out = tempDir();
      await killedAt(s, out, reached.promise, ['--concurrency', '1']);
      killing = false;
      const state = readJournal(out);
      await expectRecovery(s, out, state);
      await s.close();
    }
  }, 60_000);

  it('what killed runs leave behind (temp files, a compaction temp, half-taken locks) is cleared', async () => {
    const s = await serve();
    const out = tempDir();
    expect((await archiveRun(s, out, ['--max-pages', '1'])).code).toBe(0);
    const dead = await deadPid();
    const state = path.join(out, '.x-media-dump');
    fs.writeFileSync(path.join(state, 'tmp', '3_1513260697060364303.part'), 'half a photo');
    fs.writeFileSync(path.join(state, `journal.jsonl.${dead}.tmp`), '{"k":"format","v":1}\n{"k":"it');
    fs.writeFileSync(path.join(state, 'lock'), `${dead}\n`);
    fs.writeFileSync(path.join(state, `lock.${dead}`), `${dead}\n`);
    fs.writeFileSync(path.join(state, `lock.${dead}.stale`), `${dead}\n`);
    s.resetStats();
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    expect(pagesAsked(s)).toEqual([1, 2, 3]);
    expectSaved(s, out, ALL);
    expectOnly(out, ALL);
  });
});

describe('torn journal', () => {
  it('half a line at the end of the journal: the next run works and loses nothing that was complete', async () => {
    const s = await serve();
    const out = tempDir();
    expect((await archiveRun(s, out, ['--max-pages', '2'])).code).toBe(0);
    const journal = path.join(out, '.x-media-dump', 'journal.jsonl');
    const before = readJournal(out);
    expect(before.files.size).toBe(4);
    const line = JSON.stringify({ k: 'file', file: { media_key: '3_1490431813810114567', path: '1490431825918967810_1.jpg', bytes: 5952, sha256: 'f'.repeat(64) } });
    fs.appendFileSync(journal, line.slice(0, line.length >> 1));

    s.resetStats();
    const run = await archiveRun(s, out);
    expect(run.code, run.stderr).toBe(0);
    // The saved token and the four recorded files survived the torn line.
    expect(pagesAsked(s)).toEqual([1, 3]);
    expect(cdnKeys(s)).toEqual(keysOf(onPages(3)));
    expectSaved(s, out, ALL);
    expectOnly(out, ALL);
    expect(readJournal(out).files.size).toBe(7);
  });
});
