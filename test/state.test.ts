import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deadPid } from './helpers/faults.js';
import { pinnedCount } from '../src/api/pager.js';
import { acquireLock } from '../src/archive/lock.js';
import { STATE_DIR } from '../src/archive/state.js';
import { LockedError } from '../src/errors.js';
import { tempDir } from './helpers/cli.js';

/** The lock at the byte level: what a kill can leave, and who may take it over. */

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
