import { describe, expect, it } from 'vitest';
import { HAS_FILE, HAS_ITEM, MediaIndex } from '../src/archive/index.js';
import { PathTable } from '../src/archive/paths.js';

/** The archive's typed-array tables against a plain Map doing the same, over many keys. */

describe('MediaIndex', () => {
  it('finds every key it was given across growth, with its offsets and flags, and no key it was not', () => {
    const index = new MediaIndex(7);
    const expected = new Map<string, { item: number; file: number }>();
    for (let i = 0; i < 20_000; i++) {
      const key = `${[3, 7, 16, 13][i % 4]}_${(1_500_000_000_000_000_000n + BigInt(i) * 9_999_991n).toString()}`;
      const slot = index.slot(key);
      const item = i * 1013;
      const file = i % 3 === 0 ? -1 : 2 ** 33 + i;
      index.setItem(slot, item);
      index.setFile(slot, file);
      index.setFlags(slot, HAS_ITEM | (file >= 0 ? HAS_FILE : 0));
      expected.set(key, { item, file });
    }
    expect(index.count).toBe(20_000);
    for (const [key, { item, file }] of expected) {
      const slot = index.find(key);
      expect(index.keyOf(slot)).toBe(key);
      expect(index.itemAt(slot)).toBe(item);
      expect(index.fileAt(slot)).toBe(file);
      expect((index.flags(slot) & HAS_FILE) !== 0).toBe(file >= 0);
    }
    expect(index.find('3_42')).toBe(-1);
    expect(index.find('3_1500000000000000001')).toBe(-1);
    expect([...index.slots()]).toHaveLength(20_000);
    // Counters kept as flags change: 20,000 items, two in three with a file (13,333).
    expect([index.items, index.files]).toEqual([20_000, 13_333]);
    const first = index.find([...expected.keys()][1] ?? '');
    index.setFlags(first, HAS_FILE);
    index.setFlags(first, 0, HAS_FILE);
    index.setFlags(first, 0, HAS_FILE);
    expect([index.items, index.files]).toEqual([20_000, 13_332]);
    // Rebuilt from the arrays (a snapshot's load): the same counts.
    const reloaded = new MediaIndex(0, index.state.arrays);
    expect([reloaded.items, reloaded.files]).toEqual([20_000, 13_332]);
  });

  it('keys that are not <digits>_<digits> in range still work, by serial number', () => {
    const index = new MediaIndex();
    const odd = ['3_007', 'x_1', `3_${(1n << 64n).toString()}`, '99999_1', ''];
    for (const [i, key] of odd.entries()) index.setItem(index.slot(key), i);
    for (const [i, key] of odd.entries()) {
      expect(index.keyOf(index.find(key))).toBe(key);
      expect(index.itemAt(index.find(key))).toBe(i);
    }
    expect(index.find('3_7')).toBe(-1);
    const copy = new MediaIndex(0, index.state.arrays, index.state.oddKeys);
    expect(copy.itemAt(copy.find('x_1'))).toBe(1);
  });
});

describe('PathTable', () => {
  it('owners, claims and releases agree with a Map through growth and backward-shift deletion', () => {
    const table = new PathTable(5);
    const expected = new Map<string, number>();
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 30_000; step++) {
      const path = `a/${Math.floor(random() * 3000)}.jpg`;
      const slot = Math.floor(random() * 50);
      if (random() < 0.6) {
        table.claim(path, slot);
        expected.set(path.toLowerCase(), slot);
      } else {
        table.release(path, slot);
        if (expected.get(path.toLowerCase()) === slot) expected.delete(path.toLowerCase());
      }
    }
    for (let i = 0; i < 3000; i++) {
      const path = `A/${i}.JPG`;
      expect(table.owner(path), path).toBe(expected.get(path.toLowerCase()) ?? -1);
    }
  });
});
