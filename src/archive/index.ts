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

export interface IndexArrays {
  /** prefix + 1; 0 marks an empty slot. */
  prefix: Uint16Array;
  hi: Uint32Array;
  lo: Uint32Array;
  flags: Uint8Array;
  /** Byte offset of the journal line holding the latest item entry; -1 for none. */
  item: Float64Array;
  /** Byte offset of the journal line holding the latest file entry; -1 for none. */
  file: Float64Array;
}

export class MediaIndex {
  count = 0;
  private arrays: IndexArrays;
  /** Keys that are not `<digits>_<digits>` within range: key → serial, and back. */
  private readonly odd = new Map<string, number>();
  private readonly oddKeys: string[] = [];

  constructor(capacity = 1024, arrays?: IndexArrays, oddKeys: readonly string[] = []) {
    this.arrays = arrays ?? allocate(capacity);
    for (const key of oddKeys) this.serial(key);
    if (arrays) for (let slot = 0; slot < arrays.prefix.length; slot++) if (arrays.prefix[slot] !== EMPTY) this.count += 1;
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
    if ((this.count + 1) * 2 > this.capacity) this.grow();
    const a = this.arrays;
    const mask = this.capacity - 1;
    let slot = mix(prefix, hi, lo) & mask;
    while (a.prefix[slot] !== EMPTY) slot = (slot + 1) & mask;
    a.prefix[slot] = prefix;
    a.hi[slot] = hi;
    a.lo[slot] = lo;
    a.item[slot] = -1;
    a.file[slot] = -1;
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
    a[slot] = ((a[slot] ?? 0) & ~clear) | set;
  }

  itemAt(slot: number): number {
    return this.arrays.item[slot] ?? -1;
  }

  fileAt(slot: number): number {
    return this.arrays.file[slot] ?? -1;
  }

  setItem(slot: number, offset: number): void {
    this.arrays.item[slot] = offset;
  }

  setFile(slot: number, offset: number): void {
    this.arrays.file[slot] = offset;
  }

  /** Every occupied slot, in table order. */
  *slots(): Generator<number> {
    const prefix = this.arrays.prefix;
    for (let slot = 0; slot < prefix.length; slot++) if (prefix[slot] !== EMPTY) yield slot;
  }

  private probe(prefix: number, hi: number, lo: number): number {
    const a = this.arrays;
    const mask = this.capacity - 1;
    for (let slot = mix(prefix, hi, lo) & mask; ; slot = (slot + 1) & mask) {
      const p = a.prefix[slot];
      if (p === EMPTY || p === undefined) return -1;
      if (p === prefix && a.hi[slot] === hi && a.lo[slot] === lo) return slot;
    }
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
    this.arrays = allocate(old.prefix.length * 2);
    this.count = 0;
    for (let slot = 0; slot < old.prefix.length; slot++) {
      const prefix = old.prefix[slot] ?? EMPTY;
      if (prefix === EMPTY) continue;
      const a = this.arrays;
      const mask = this.capacity - 1;
      let to = mix(prefix, old.hi[slot] ?? 0, old.lo[slot] ?? 0) & mask;
      while (a.prefix[to] !== EMPTY) to = (to + 1) & mask;
      a.prefix[to] = prefix;
      a.hi[to] = old.hi[slot] ?? 0;
      a.lo[to] = old.lo[slot] ?? 0;
      a.flags[to] = old.flags[slot] ?? 0;
      a.item[to] = old.item[slot] ?? -1;
      a.file[to] = old.file[slot] ?? -1;
      this.count += 1;
    }
  }
}

export function allocate(capacity: number): IndexArrays {
  return {
    prefix: new Uint16Array(capacity),
    hi: new Uint32Array(capacity),
    lo: new Uint32Array(capacity),
    flags: new Uint8Array(capacity),
    item: new Float64Array(capacity),
    file: new Float64Array(capacity),
  };
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
