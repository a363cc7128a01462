import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Archive, STATE_DIR, type PageRecord } from '../src/archive/state.js';
import { JournalFile } from '../src/archive/journal.js';
import { tweetsOf } from '../src/archive/tweets.js';
import { UsageError } from '../src/errors.js';
import { recoverLostPages } from '../src/recover.js';
import type { ArchivedFile, MediaItem, ScanState } from '../src/types.js';
import { listFiles, tempDir } from './helpers/cli.js';

/** The archive's store at the byte level: what a kill or a damaged disk can leave, and what is read back. */

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

/** The tweet behind an item, as the API sends it. */
function tweetOf(i: MediaItem) {
  const id = i.media.media_key.slice(2);
  return { tweet_id: i.tweet.tweet_id, creation_date: 'Sat Apr 23 22:34:21 +0000 2022', extended_entities: { media: [{ id_str: id, media_key: i.media.media_key, type: 'photo', media_url_https: i.media.url }] } };
}

/** Page `seq` of user u1 with the given items; its body holds the tweets behind them. */
function page(seq: number, items: MediaItem[], scan: Partial<ScanState> = {}): PageRecord {
  const body = JSON.stringify({ results: items.map(tweetOf), continuation_token: `T${seq + 1}` });
  return { userId: 'u1', seq, newest: items[0]?.tweet.tweet_id, body, items, scan: { gaps: [{ token: `T${seq + 1}` }], complete: false, pages: seq, ...scan } };
}

const stateDir = (out: string) => path.join(out, STATE_DIR);
const journalOf = (out: string) => path.join(stateDir(out), 'journal.jsonl');

/** What a reader sees: items, files and the scan, as plain data. */
function view(archive: Archive) {
  const records = [...archive.records()];
  return {
    items: records.map((r) => r.item.media.media_key).sort(),
    files: records.filter((r) => r.file).map((r) => r.item.media.media_key).sort(),
    scan: archive.scanOf('u1'),
  };
}

describe('journal lines', () => {
  it("a page's marker, media and progress are one line: every torn prefix of it reads as neither", () => {
    const out = tempDir();
    const archive = Archive.open(out, true, 0);
    archive.recordPage(page(1, [item(1)]));
    archive.recordFile(file(1));
    const before = fs.readFileSync(journalOf(out));
    const beforeState = view(Archive.open(out, false, 0));
    expect(beforeState).toEqual({ items: ['3_1001'], files: ['3_1001'], scan: page(1, []).scan });

    archive.recordPage(page(2, [item(2), item(3)]));
    const after = fs.readFileSync(journalOf(out));
    const added = after.subarray(before.length).toString('utf8');
    expect(added.split('\n')).toHaveLength(2);
    expect(view(Archive.open(out, false, 0))).toEqual({ items: ['3_1001', '3_1002', '3_1003'], files: ['3_1001'], scan: page(2, []).scan });
    archive.close();
    fs.rmSync(path.join(stateDir(out), 'index.bin'));

    for (let cut = before.length; cut < after.length - 1; cut++) {
      fs.writeFileSync(journalOf(out), after.subarray(0, cut));
      expect(view(Archive.open(out, false, 0)), `cut at ${cut}`).toEqual(beforeState);
    }
  });

  it('a last line that is whole but lost its newline is kept; the next append still starts a line', () => {
    const out = tempDir();
    const archive = Archive.open(out, true, 0);
    archive.recordPage(page(1, [item(1), item(2), item(3)]));
    archive.recordFile(file(1));
    archive.recordFile(file(2));
    archive.close();
    const text = fs.readFileSync(journalOf(out), 'utf8');
    fs.writeFileSync(journalOf(out), text.slice(0, -1));

    const reopened = Archive.open(out, true, 0);
    expect(reopened.report.torn).toBeUndefined();
    expect(view(reopened).files).toEqual(['3_1001', '3_1002']);
    reopened.recordFile(file(3));
    reopened.close();
    expect(view(Archive.open(out, false, 0)).files).toEqual(['3_1001', '3_1002', '3_1003']);
  });

  it('an archive written by a newer version is refused (exit 2), not silently rewritten', () => {
    const out = tempDir();
    fs.mkdirSync(stateDir(out));
    const text = '{"k":"format","v":99}\n{"k":"future","x":1}\n';
    fs.writeFileSync(journalOf(out), text);
    expect(() => Archive.open(out, true, 0)).toThrow(UsageError);
    expect(() => Archive.open(out, true, 0)).toThrow(/newer x-media-dump \(archive format 99\)/);
    expect(fs.readFileSync(journalOf(out), 'utf8')).toBe(text);
  });

  it('the scan the archive holds is what was written, not what the caller changed since', () => {
    const archive = Archive.open(tempDir(), true, 0);
    const scan: ScanState = { gaps: [{ token: 'A' }], complete: false, pages: 1 };
    archive.saveScan('u1', scan);
    scan.gaps = [];
    scan.pages = 9;
    expect(archive.scanOf('u1')).toEqual({ gaps: [{ token: 'A' }], complete: false, pages: 1 });
    archive.close();
  });

  it('pending: items with no file, and files saved from a fallback size (to be upgraded), in the order found', () => {
    const out = tempDir();
    const archive = Archive.open(out, true, 0);
    archive.recordPage(page(1, [item(3), item(1)]));
    archive.recordPage(page(2, [item(2)]));
    archive.recordFile(file(1));
    archive.recordFile(file(2, { quality: 'large', upgradable: true }));
    archive.close();
    expect([...Archive.open(out, false, 0).pending()].map((i) => i.media.media_key)).toEqual(['3_1003', '3_1002']);
  });
});

describe('opening without rewriting', () => {
  it('an idle open and close writes nothing; leftovers of killed runs are cleared', () => {
    const out = tempDir();
    const archive = Archive.open(out, true, 0);
    archive.recordPage(page(1, [item(1), item(2)]));
    archive.recordFile(file(1));
    archive.close();
    const journal = fs.readFileSync(journalOf(out));
    const snapshot = fs.readFileSync(path.join(stateDir(out), 'index.bin'));
    fs.writeFileSync(path.join(archive.tmpDir, '3_1002.part'), 'partial');
    fs.writeFileSync(`${journalOf(out)}.4242.tmp`, 'half a compaction');

    Archive.open(out, true, 0).close();
    expect(fs.readFileSync(journalOf(out)).equals(journal)).toBe(true);
    expect(fs.readFileSync(path.join(stateDir(out), 'index.bin')).equals(snapshot)).toBe(true);
    expect(listFiles(out)).toEqual(['.x-media-dump/index.bin', '.x-media-dump/journal.jsonl', '.x-media-dump/tweets.jsonl.gz']);
  });

  it('the snapshot is used when it matches the journal, and rebuilt from the journal when it does not', () => {
    const out = tempDir();
    const archive = Archive.open(out, true, 0);
    archive.recordPage(page(1, [item(1), item(2)]));
    archive.recordFile(file(2));
    archive.close();
    const expected = view(Archive.open(out, false, 0));
    expect(expected).toEqual({ items: ['3_1001', '3_1002'], files: ['3_1002'], scan: page(1, []).scan });
    // A journal from elsewhere under the same snapshot: its bytes do not match, so it is replayed whole.
    const other = tempDir();
    const second = Archive.open(other, true, 0);
    second.recordPage(page(1, [item(7)]));
    second.close();
    fs.copyFileSync(path.join(stateDir(out), 'index.bin'), path.join(stateDir(other), 'index.bin'));
    expect(view(Archive.open(other, false, 0)).items).toEqual(['3_1007']);
    fs.writeFileSync(path.join(stateDir(out), 'index.bin'), 'garbage');
    expect(view(Archive.open(out, false, 0))).toEqual(expected);
  });

  it('compacts once dead entries outweigh live ones, keeping every live fact', () => {
    const out = tempDir();
    const archive = Archive.open(out, true, 0);
    archive.recordPage(page(1, [item(1), item(2)]));
    for (let i = 0; i < 20; i++) archive.recordFile(file(1, { sha256: String(i % 10).repeat(64) }));
    archive.recordFile(file(2));
    archive.forgetFile('3_1002');
    archive.close();
    const lines = fs.readFileSync(journalOf(out), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { k: string });
    expect(lines.map((l) => l.k)).toEqual(['format', 'tx', 'file', 'scan']);
    const read = Archive.open(out, false, 0);
    expect(view(read)).toEqual({ items: ['3_1001', '3_1002'], files: ['3_1001'], scan: page(1, []).scan });
    expect(read.fileOf('3_1001')?.sha256).toBe('9'.repeat(64));
  });

  it('the paths owned, read back from the snapshot, still keep two items apart', () => {
    const out = tempDir();
    const archive = Archive.open(out, true, 0);
    archive.recordPage(page(1, [item(1), item(2)]));
    archive.recordFile(file(1, { path: 'Same.jpg' }));
    archive.close();
    const reopened = Archive.open(out, true, 0);
    expect(reopened.report.unreadable).toEqual([]);
    expect(reopened.pathFor('3_1002', 'SAME.jpg')).toBe('SAME~3_1002.jpg');
    expect(reopened.pathFor('3_1001', 'Same.jpg')).toBe('Same.jpg');
    reopened.close();
  });

  it('two items never share a path, compared without case; a file keeps its path', () => {
    const archive = Archive.open(tempDir(), true, 0);
    archive.recordPage(page(1, [item(1), item(2)]));
    archive.recordFile(file(1, { path: 'Same.jpg' }));
    expect(archive.pathFor('3_1001', 'Same.jpg')).toBe('Same.jpg');
    expect(archive.pathFor('3_1002', 'same.JPG')).toBe('same~3_1002.JPG');
    expect(archive.pathFor('3_1003', 'fresh.jpg')).toBe('fresh.jpg');
    expect(archive.pathFor('3_1004', 'FRESH.jpg')).toBe('FRESH~3_1004.jpg');
    archive.close();
  });
});

describe('a damaged journal never loses media silently', () => {
  /** An archive of three pages, then page 2's line overwritten with garbage of the same length. */
  function damaged() {
    const out = tempDir();
    const archive = Archive.open(out, true, 0);
    archive.recordPage(page(1, [item(1)]));
    archive.recordPage(page(2, [item(2), item(3)]));
    archive.recordPage(page(3, [item(4)], { head: '2001' }));
    archive.close();
    fs.rmSync(path.join(stateDir(out), 'index.bin'));
    const lines = fs.readFileSync(journalOf(out), 'utf8').split('\n');
    const pageTwo = lines.findIndex((l) => l.includes('"seq":2'));
    lines[pageTwo] = 'x'.repeat(lines[pageTwo]?.length ?? 1);
    fs.writeFileSync(journalOf(out), lines.join('\n'));
    return out;
  }

  it('the lost page is found as a hole in the page numbers; a copy of the journal is kept before any rewrite', () => {
    const out = damaged();
    const damagedBytes = fs.readFileSync(journalOf(out));
    const archive = Archive.open(out, true, 0);
    expect(archive.report.unreadable).toHaveLength(1);
    expect(archive.report.holes).toEqual([expect.objectContaining({ user_id: 'u1', from: 2, to: 2, floor: '2004' })]);
    expect(archive.report.copy && fs.readFileSync(archive.report.copy).equals(damagedBytes)).toBe(true);
    expect(view(archive).items).toEqual(['3_1001', '3_1004']);
    archive.close();
  });

  it("its media come back from the stored tweets, at no cost, and the hole is closed", () => {
    const out = damaged();
    const notices: string[] = [];
    const archive = Archive.open(out, true, 0);
    const [lost] = archive.storedPages(archive.report.holes[0] ?? { user_id: 'u1', from: 2, to: 2, floor: undefined, tweetsFrom: 0, tweetsTo: undefined });
    expect(lost && tweetsOf(lost).map((t) => (t as { tweet_id: string }).tweet_id)).toEqual(['2002', '2003']);
    recoverLostPages(archive, (m) => notices.push(m));
    expect(view(archive).items).toEqual(['3_1001', '3_1002', '3_1003', '3_1004']);
    expect(archive.itemOf('3_1003')?.tweet).toEqual({ tweet_id: '2003', created_at: '2022-04-23T22:34:21.000Z' });
    archive.close();
    expect(notices).toEqual([expect.stringMatching(/^the journal had 1 unreadable line \(damage, not a crash's cut-off end\); a copy of it as it was is kept at .*journal\.damaged-.*\.jsonl; files already on disk are kept; 1 page whose records were lost came back from the stored tweets, at no cost$/)]);
    const reopened = Archive.open(out, true, 0);
    expect(reopened.report.holes).toEqual([]);
    expect(reopened.report.unreadable).toEqual([]);
    reopened.close();
  });

  it('without the stored tweets, the lost page is paged again from page 1 down to the page after it', () => {
    const out = damaged();
    fs.writeFileSync(path.join(stateDir(out), 'tweets.jsonl.gz'), '');
    const notices: string[] = [];
    const archive = Archive.open(out, true, 0);
    recoverLostPages(archive, (m) => notices.push(m));
    expect(archive.scanOf('u1').gaps[0]).toEqual({ token: '', fromStart: true, floor: '2004' });
    archive.close();
    expect(notices[0]).toContain('1 page of user u1 could not be recovered and are paged again from page 1 on this run: paying again for what was lost is the honest cost');
    expect(Archive.open(out, false, 0).report.holes).toEqual([]);
  });
});

describe('the journal file read back in chunks', () => {
  it('returns every line whole across 1 MiB chunk ends, a line longer than three chunks, and a torn last line', () => {
    const dir = tempDir();
    const file = path.join(dir, 'journal.jsonl');
    // Lengths chosen so lines straddle the 1 MiB boundaries, one is 3.5 MiB, and multi-byte
    // characters fall across a boundary.
    const lines = ['a'.repeat(1_048_570), 'é'.repeat(10), 'b'.repeat(3_670_016), 'c', '', 'ü'.repeat(524_290), 'd'.repeat(1_048_576)];
    fs.writeFileSync(file, `${lines.join('\n')}\ntorn`);
    const read = [...new JournalFile(file).lines()];
    expect(read.map((l) => l.text)).toEqual([...lines, 'torn']);
    expect(read.map((l) => l.complete)).toEqual([...lines.map(() => true), false]);
    const offsets = [0];
    for (const line of lines) offsets.push((offsets.at(-1) ?? 0) + Buffer.byteLength(line) + 1);
    expect(read.map((l) => l.offset)).toEqual(offsets);
    // From an offset in the middle: the same lines on from there.
    const third = offsets[3] ?? -1;
    expect([...new JournalFile(file).lines(third)].map((l) => l.text.length)).toEqual([1, 0, 524_290, 1_048_576, 4]);
  });
});
