import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deadPid } from './helpers/faults.js';
import { pinnedCount } from '../src/api/pager.js';
import { acquireLock } from '../src/archive/lock.js';
import { Archive, STATE_DIR } from '../src/archive/state.js';
import { LockedError, UsageError } from '../src/errors.js';
import type { ArchivedFile, MediaItem, ScanState } from '../src/types.js';
import { listFiles, tempDir } from './helpers/cli.js';

/** The journal and the lock, at the byte level: what a kill can leave and what is read back. */

function item(n: number): MediaItem {
  return {
    media: { media_key: `3_${1000 + n}`, type: 'photo', url: `https://pbs.twimg.com/media/P${n}.jpg` },
    tweet: { tweet_id: String(2000 + n), created_at: '2022-04-23T22:34:21.000Z' },
    n: 1,
  };
}

function file(n: number, extra: Partial<ArchivedFile> = {}): ArchivedFile {
  return { media_key: `3_${1000 + n}`, path: `${2000 + n}_1.jpg`, bytes: 10 + n, sha256: String(n).repeat(64).slice(0, 64), source_url: 'u', quality: 'orig', ...extra };
}

const journalOf = (out: string) => path.join(out, STATE_DIR, 'journal.jsonl');

/** What a reader sees: items, files and the scan, as plain data. */
function snapshot(archive: Archive) {
  return { items: [...archive.items.keys()].sort(), files: [...archive.files.keys()].sort(), scan: archive.scans.get('u1') };
}

describe('journal', () => {
  it("a page's media and its progress are one line: every torn prefix of it reads as neither", () => {
    const out = tempDir();
    const archive = Archive.open(out, true);
    archive.discover([item(1)]);
    archive.saveScan('u1', { head: '2001', gaps: [{ token: 'T1' }], complete: false, pages: 1 });
    archive.recordFile(file(1));
    const before = fs.readFileSync(journalOf(out));
    const beforeState = snapshot(Archive.open(out, false));

    archive.discover([item(2), item(3)]);
    const scan: ScanState = { head: '2001', gaps: [{ token: 'T2' }], complete: false, pages: 2 };
    archive.saveScan('u1', scan);
    archive.close();
    const after = fs.readFileSync(journalOf(out));
    const added = after.subarray(before.length).toString('utf8');
    expect(added.split('\n')).toHaveLength(2); // one line and its newline
    expect(snapshot(Archive.open(out, false))).toEqual({ items: ['3_1001', '3_1002', '3_1003'], files: ['3_1001'], scan });

    for (let cut = before.length; cut < after.length - 1; cut++) {
      fs.writeFileSync(journalOf(out), after.subarray(0, cut));
      expect(snapshot(Archive.open(out, false)), `cut at ${cut}`).toEqual(beforeState);
    }
  });

  it('a last line that is whole but lost its newline is kept; the next append still starts a line', () => {
    const out = tempDir();
    const archive = Archive.open(out, true);
    archive.recordFile(file(1));
    archive.recordFile(file(2));
    archive.close();
    const text = fs.readFileSync(journalOf(out), 'utf8');
    fs.writeFileSync(journalOf(out), text.slice(0, -1));

    const reopened = Archive.open(out, true);
    expect(reopened.droppedLines).toBe(0);
    expect([...reopened.files.keys()]).toEqual(['3_1001', '3_1002']);
    reopened.recordFile(file(3));
    reopened.close();
    expect([...Archive.open(out, false).files.keys()]).toEqual(['3_1001', '3_1002', '3_1003']);
  });

  it('a damaged line in the middle is dropped and counted; the rest is kept', () => {
    const out = tempDir();
    const archive = Archive.open(out, true);
    archive.recordFile(file(1));
    archive.recordFile(file(2));
    archive.close();
    const lines = fs.readFileSync(journalOf(out), 'utf8').split('\n');
    lines.splice(2, 0, '{"k":"file","file":{"media_ke');
    fs.writeFileSync(journalOf(out), lines.join('\n'));
    const read = Archive.open(out, false);
    expect(read.droppedLines).toBe(1);
    expect([...read.files.keys()]).toEqual(['3_1001', '3_1002']);
  });

  it('an archive written by a newer version is refused (exit 2), not silently rewritten', () => {
    const out = tempDir();
    fs.mkdirSync(path.join(out, STATE_DIR));
    const text = '{"k":"format","v":99}\n{"k":"future","x":1}\n';
    fs.writeFileSync(journalOf(out), text);
    expect(() => Archive.open(out, true)).toThrow(UsageError);
    expect(() => Archive.open(out, true)).toThrow(/newer x-media-dump \(archive format 99\)/);
    expect(fs.readFileSync(journalOf(out), 'utf8')).toBe(text);
  });

  it('a writable open compacts to one fact per line and clears what killed runs left', () => {
    const out = tempDir();
    const archive = Archive.open(out, true);
    archive.discover([item(1), item(2)]);
    archive.saveScan('u1', { gaps: [{ token: 'A' }], complete: false, pages: 1 });
    archive.saveScan('u1', { head: '2002', gaps: [], complete: true, pages: 2 });
    archive.recordFile(file(1));
    archive.recordFile(file(2));
    archive.forgetFile('3_1002');
    archive.close();
    fs.writeFileSync(path.join(archive.tmpDir, '3_1002.part'), 'partial');
    fs.writeFileSync(`${journalOf(out)}.4242.tmp`, 'half a compaction');

    const compacted = Archive.open(out, true);
    compacted.close();
    expect(listFiles(out)).toEqual(['.x-media-dump/journal.jsonl']);
    const lines = fs.readFileSync(journalOf(out), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { k: string });
    expect(lines.map((l) => l.k)).toEqual(['format', 'scan', 'item', 'item', 'file']);
    expect(snapshot(Archive.open(out, false))).toEqual({ items: ['3_1001', '3_1002'], files: ['3_1001'], scan: { head: '2002', gaps: [], complete: true, pages: 2 } });
  });

  it('pending: items with no file, and files saved from a fallback size (to be upgraded)', () => {
    const out = tempDir();
    const archive = Archive.open(out, true);
    archive.discover([item(1), item(2), item(3)]);
    archive.recordFile(file(1));
    archive.recordFile(file(2, { quality: 'large', upgradable: true }));
    archive.close();
    expect(Archive.open(out, false).pending().map((i) => i.media.media_key)).toEqual(['3_1002', '3_1003']);
  });

  it('the scan the archive holds is what was written, not what the caller changed since', () => {
    const out = tempDir();
    const archive = Archive.open(out, true);
    const scan: ScanState = { gaps: [{ token: 'A' }], complete: false, pages: 1 };
    archive.saveScan('u1', scan);
    scan.gaps = [];
    scan.pages = 9;
    expect(archive.scanOf('u1')).toEqual({ gaps: [{ token: 'A' }], complete: false, pages: 1 });
    archive.close();
  });
});

/** What this process's lock says: its pid, then (Linux) its boot id and start time, read from /proc here. */
function ownLock(): string {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return `${process.pid}\nboot=${boot} start=${start}\n`;
}

describe('lock', () => {
  it('a live owner blocks with its pid named; release frees it', () => {
    const out = tempDir();
    const dir = path.join(out, STATE_DIR);
    fs.mkdirSync(dir);
    // The test runner's parent is alive and is not us.
    fs.writeFileSync(path.join(dir, 'lock'), `${process.ppid}\n`);
    expect(() => acquireLock(dir, out)).toThrow(LockedError);
    expect(() => acquireLock(dir, out)).toThrow(`pid ${process.ppid}`);
    expect(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).toBe(`${process.ppid}\n`);
    expect(fs.readdirSync(dir)).toEqual(['lock']);

    fs.rmSync(path.join(dir, 'lock'));
    const release = acquireLock(dir, out);
    expect(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).toBe(ownLock());
    release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a stale lock (dead pid) is taken over, and half-taken locks of dead runs are cleared', async () => {
    const out = tempDir();
    const dir = path.join(out, STATE_DIR);
    fs.mkdirSync(dir);
    const dead = await deadPid();
    fs.writeFileSync(path.join(dir, 'lock'), `${dead}\n`);
    fs.writeFileSync(path.join(dir, `lock.${dead}`), `${dead}\n`);
    fs.writeFileSync(path.join(dir, `lock.${dead}.stale`), `${dead}\n`);
    fs.writeFileSync(path.join(dir, `lock.${process.ppid}`), `${process.ppid}\n`); // a live run mid-acquire
    const release = acquireLock(dir, out);
    expect(fs.readdirSync(dir).sort()).toEqual(['lock', `lock.${process.ppid}`]);
    expect(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).toBe(ownLock());
    release();
  });

  it("release leaves alone a lock that is no longer ours", () => {
    const out = tempDir();
    const dir = path.join(out, STATE_DIR);
    const release = acquireLock(dir, out);
    fs.writeFileSync(path.join(dir, 'lock'), `${process.ppid}\n`);
    release();
    expect(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).toBe(`${process.ppid}\n`);
  });
});

describe('pinned tweets', () => {
  const facts = (...ids: number[]) => ids.map((id) => ({ id: BigInt(id), time: undefined }));
  it('leading items older than something below them are not trusted, at most 3', () => {
    expect(pinnedCount(facts(10, 9, 8))).toBe(0);
    expect(pinnedCount(facts(1, 9, 8))).toBe(1);
    expect(pinnedCount(facts(1, 2, 9, 8))).toBe(2);
    expect(pinnedCount(facts(3, 1, 2, 9, 8))).toBe(3);
    expect(pinnedCount(facts(1, 2, 3, 4, 9))).toBe(3);
    expect(pinnedCount(facts(5))).toBe(0);
    // Snowflakes beyond 2^53 compare exactly.
    expect(pinnedCount([{ id: 1517995317697916928n, time: undefined }, { id: 1517995317697916929n, time: undefined }])).toBe(1);
  });
});
