/**
 * The archive's in-memory index: for every media_key, where its latest item and file entries
 * sit in the journal, and a few flags. Typed arrays in an open-addressing hash table (linear
 * probing), so a million media cost tens of bytes each, not the kilobytes of parsed objects;
 * the entries themselves stay on disk and are read back by offset when needed.
 *
 * A media_key `<prefix>_<id>` (the normalizer guarantees digits) is stored as the prefix and the
 * id's two 32-bit halves. A key that does not fit is given a serial number through a small Map.
 */

export const HAS_ITEM = 1;
export const HAS_FILE = 2;
/** The file was saved from a fallback size: a later run tries for the better one. */
export const UPGRADABLE = 4;
/** Handled by this run already (never persisted). */
export const HANDLED = 8;

const EMPTY = 0;
/** Marks a key kept by serial number (see `odd`). */
const ODD_PREFIX = 0xffff;
const MAX_ID = (1n << 64n) - 1n;

/**
 * Per slot. Journal offsets are kept as offset + 1 (0: none) in 40 bits, a 32-bit low part and
 * an 8-bit high part: journals up to a terabyte, in 5 bytes rather than a double's 8.
 */
export interface IndexArrays {
  /** prefix + 1; 0 marks an empty slot. */
  prefix: Uint16Array;
  hi: Uint32Array;
  lo: Uint32Array;
  flags: Uint8Array;
  /** The journal line holding the latest item entry. */
  itemLo: Uint32Array;
  itemHi: Uint8Array;
  /** The journal line holding the latest file entry. */
  fileLo: Uint32Array;
  fileHi: Uint8Array;
}

/** The table is grown past this share of slots in use (linear probing stays short below it). */
const MAX_LOAD = 0.7;
const GROWTH = 1.6;

export class MediaIndex {
  count = 0;
  /** Slots with HAS_ITEM, and with HAS_FILE: kept as flags change, not counted by a scan. */
  items = 0;
  files = 0;
  private arrays: IndexArrays;
  /** Keys that are not `<digits>_<digits>` within range: key → serial, and back. */
  private readonly odd = new Map<string, number>();
  private readonly oddKeys: string[] = [];

  constructor(capacity = 1021, arrays?: IndexArrays, oddKeys: readonly string[] = []) {
    this.arrays = arrays ?? allocate(capacity);
    for (const key of oddKeys) this.serial(key);
    if (arrays) {
      for (let slot = 0; slot < arrays.prefix.length; slot++) {
        if (arrays.prefix[slot] === EMPTY) continue;
        this.count += 1;
        this.tally(arrays.flags[slot] ?? 0, 1);
      }
    }
  }

  get capacity(): number {
    return this.arrays.prefix.length;
  }

  /** The arrays as they are, for a snapshot; and the odd keys in serial order. */
  get state(): { arrays: IndexArrays; oddKeys: readonly string[] } {
    return { arrays: this.arrays, oddKeys: this.oddKeys };
  }

  /** The slot of `key`, or -1 when the index has never seen it. */
  find(key: string): number {
    const parts = this.partsOf(key, false);
    return parts === undefined ? -1 : this.probe(parts[0], parts[1], parts[2]);
  }

  /** The slot of `key`, made if it is new. */
  slot(key: string): number {
    const parts = this.partsOf(key, true);
    if (parts === undefined) throw new Error(`unindexable media key ${key}`);
    const [prefix, hi, lo] = parts;
    const found = this.probe(prefix, hi, lo);
    if (found >= 0) return found;
    if (this.count + 1 > this.capacity * MAX_LOAD) this.grow();
    const slot = this.place(prefix, hi, lo);
    this.count += 1;
    return slot;
  }

  /** The media_key a slot holds. */
  keyOf(slot: number): string {
    const a = this.arrays;
    const prefix = a.prefix[slot] ?? EMPTY;
    if (prefix === ODD_PREFIX) return this.oddKeys[a.lo[slot] ?? 0] ?? '';
    const id = (BigInt(a.hi[slot] ?? 0) << 32n) | BigInt(a.lo[slot] ?? 0);
    return `${prefix - 1}_${id}`;
  }

  flags(slot: number): number {
    return this.arrays.flags[slot] ?? 0;
  }

  setFlags(slot: number, set: number, clear = 0): void {
    const a = this.arrays.flags;
    const before = a[slot] ?? 0;
    const after = (before & ~clear) | set;
    a[slot] = after;
    this.tally(before, -1);
    this.tally(after, 1);
  }

  private tally(flags: number, by: number): void {
    if (flags & HAS_ITEM) this.items += by;
    if (flags & HAS_FILE) this.files += by;
  }

  /** Offset of the slot's item line; -1 for none (or for a slot of -1). */
  itemAt(slot: number): number {
    return slot < 0 ? -1 : read40(this.arrays.itemLo, this.arrays.itemHi, slot);
  }

  fileAt(slot: number): number {
    return slot < 0 ? -1 : read40(this.arrays.fileLo, this.arrays.fileHi, slot);
  }

  setItem(slot: number, offset: number): void {
    write40(this.arrays.itemLo, this.arrays.itemHi, slot, offset);
  }

  setFile(slot: number, offset: number): void {
    write40(this.arrays.fileLo, this.arrays.fileHi, slot, offset);
  }

  /** Every occupied slot, in table order. */
  *slots(): Generator<number> {
    const prefix = this.arrays.prefix;
    for (let slot = 0; slot < prefix.length; slot++) if (prefix[slot] !== EMPTY) yield slot;
  }

  private probe(prefix: number, hi: number, lo: number): number {
    const a = this.arrays;
    const capacity = this.capacity;
    for (let slot = mix(prefix, hi, lo) % capacity; ; slot = slot + 1 === capacity ? 0 : slot + 1) {
      const p = a.prefix[slot];
      if (p === EMPTY || p === undefined) return -1;
      if (p === prefix && a.hi[slot] === hi && a.lo[slot] === lo) return slot;
    }
  }

  /** An empty slot for a new key, filled with it. */
  private place(prefix: number, hi: number, lo: number): number {
    const a = this.arrays;
    const capacity = this.capacity;
    let slot = mix(prefix, hi, lo) % capacity;
    while (a.prefix[slot] !== EMPTY) slot = slot + 1 === capacity ? 0 : slot + 1;
    a.prefix[slot] = prefix;
    a.hi[slot] = hi;
    a.lo[slot] = lo;
    return slot;
  }

  private partsOf(key: string, create: boolean): [number, number, number] | undefined {
    const m = /^(\d{1,4})_(\d{1,20})$/.exec(key);
    const prefix = m ? Number(m[1]) + 1 : 0;
    const id = m ? BigInt(m[2] ?? '0') : MAX_ID + 1n;
    // Leading zeros would not survive the round trip through numbers: such keys go by serial.
    if (m && prefix < ODD_PREFIX && id <= MAX_ID && `${prefix - 1}_${id}` === key) return [prefix, Number(id >> 32n), Number(id & 0xffffffffn)];
    const serial = this.odd.get(key) ?? (create ? this.serial(key) : undefined);
    return serial === undefined ? undefined : [ODD_PREFIX, 0, serial];
  }

  private serial(key: string): number {
    const serial = this.oddKeys.length;
    this.odd.set(key, serial);
    this.oddKeys.push(key);
    return serial;
  }

  private grow(): void {
    const old = this.arrays;
    this.arrays = allocate(Math.ceil(old.prefix.length * GROWTH));
    for (let slot = 0; slot < old.prefix.length; slot++) {
      const prefix = old.prefix[slot] ?? EMPTY;
      if (prefix === EMPTY) continue;
      const to = this.place(prefix, old.hi[slot] ?? 0, old.lo[slot] ?? 0);
      const a = this.arrays;
      a.flags[to] = old.flags[slot] ?? 0;
      a.itemLo[to] = old.itemLo[slot] ?? 0;
      a.itemHi[to] = old.itemHi[slot] ?? 0;
      a.fileLo[to] = old.fileLo[slot] ?? 0;
      a.fileHi[to] = old.fileHi[slot] ?? 0;
    }
  }
}

function allocate(capacity: number): IndexArrays {
  return {
    prefix: new Uint16Array(capacity),
    hi: new Uint32Array(capacity),
    lo: new Uint32Array(capacity),
    flags: new Uint8Array(capacity),
    itemLo: new Uint32Array(capacity),
    itemHi: new Uint8Array(capacity),
    fileLo: new Uint32Array(capacity),
    fileHi: new Uint8Array(capacity),
  };
}

const TWO_32 = 2 ** 32;

export function read40(lo: Uint32Array, hi: Uint8Array, slot: number): number {
  return (hi[slot] ?? 0) * TWO_32 + (lo[slot] ?? 0) - 1;
}

export function write40(lo: Uint32Array, hi: Uint8Array, slot: number, offset: number): void {
  const stored = offset < 0 ? 0 : offset + 1;
  lo[slot] = stored % TWO_32;
  hi[slot] = Math.floor(stored / TWO_32);
}

/** A 32-bit mix of the key's parts (murmur3's finalizer over a combination of them). */
function mix(prefix: number, hi: number, lo: number): number {
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1) ^ Math.imul(prefix, 0x85ebca6b), 0xcc9e2d51);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
