/**
 * Which media item owns each file path (compared case-insensitively, as on the file systems
 * people back up to), so two items never share a file. Kept as 64 bits of hash per path and the
 * owner's index slot, in typed arrays (linear probing, backward-shift deletion): the paths
 * themselves stay in the journal. Two paths with the same 64 bits are treated as one; the
 * second gets a `~<media_key>` suffix, which is harmless.
 */
export interface PathArrays {
  h1: Uint32Array;
  h2: Uint32Array;
  owners: Int32Array;
}

export class PathTable {
  private loaded: (PathArrays & { count: number }) | undefined;

  /**
   * `source`: the arrays, or how to read them from a snapshot when first needed (a run that
   * saves no file never needs them, and at a million media they are tens of MB).
   */
  constructor(
    capacity = 1024,
    private source?: PathArrays | (() => PathArrays),
  ) {
    if (source === undefined) this.loaded = { h1: new Uint32Array(capacity), h2: new Uint32Array(capacity), owners: new Int32Array(capacity), count: 0 };
  }

  /** The arrays as they are, for a snapshot. */
  get arrays(): PathArrays {
    const { h1, h2, owners } = this.table;
    return { h1, h2, owners };
  }

  private get table(): PathArrays & { count: number } {
    if (this.loaded === undefined) {
      const arrays = typeof this.source === 'function' ? this.source() : (this.source ?? { h1: new Uint32Array(1024), h2: new Uint32Array(1024), owners: new Int32Array(1024) });
      let count = 0;
      for (const owner of arrays.owners) if (owner !== 0) count += 1;
      this.loaded = { ...arrays, count };
      this.source = undefined;
    }
    return this.loaded;
  }

  /** The index slot owning `path`, or -1. */
  owner(path: string): number {
    const [a, b] = hashes(path);
    const cell = this.cellOf(a, b);
    return cell < 0 ? -1 : (this.table.owners[cell] ?? 0) - 1;
  }

  /** `path` now belongs to `slot` (whoever had it before). */
  claim(path: string, slot: number): void {
    const [a, b] = hashes(path);
    const cell = this.cellOf(a, b);
    const t = this.table;
    if (cell >= 0) {
      t.owners[cell] = slot + 1;
      return;
    }
    if (t.count + 1 > t.owners.length * 0.7) this.grow();
    this.insert(a, b, slot + 1);
  }

  /** Forget `path` if `slot` owns it. */
  release(path: string, slot: number): void {
    const [a, b] = hashes(path);
    let cell = this.cellOf(a, b);
    const t = this.table;
    if (cell < 0 || t.owners[cell] !== slot + 1) return;
    const size = t.owners.length;
    // Backward-shift deletion: pull later cells of the same run into the hole.
    for (let next = (cell + 1) % size; t.owners[next] !== 0; next = (next + 1) % size) {
      const home = (t.h1[next] ?? 0) % size;
      const between = cell <= next ? home > cell && home <= next : home > cell || home <= next;
      if (between) continue;
      t.h1[cell] = t.h1[next] ?? 0;
      t.h2[cell] = t.h2[next] ?? 0;
      t.owners[cell] = t.owners[next] ?? 0;
      cell = next;
    }
    t.owners[cell] = 0;
    t.count -= 1;
  }

  private cellOf(a: number, b: number): number {
    const t = this.table;
    const size = t.owners.length;
    for (let cell = a % size; ; cell = (cell + 1) % size) {
      if (t.owners[cell] === 0) return -1;
      if (t.h1[cell] === a && t.h2[cell] === b) return cell;
    }
  }

  private insert(a: number, b: number, owner: number): void {
    const t = this.table;
    const size = t.owners.length;
    let cell = a % size;
    while (t.owners[cell] !== 0) cell = (cell + 1) % size;
    t.h1[cell] = a;
    t.h2[cell] = b;
    t.owners[cell] = owner;
    t.count += 1;
  }

  private grow(): void {
    const { h1, h2, owners } = this.table;
    const size = Math.ceil(owners.length * 1.6);
    this.loaded = { h1: new Uint32Array(size), h2: new Uint32Array(size), owners: new Int32Array(size), count: 0 };
    for (let cell = 0; cell < owners.length; cell++) {
      const owner = owners[cell] ?? 0;
      if (owner !== 0) this.insert(h1[cell] ?? 0, h2[cell] ?? 0, owner);
    }
  }
}

/** Two 32-bit hashes of the lower-cased path: FNV-1a and a murmur-style mix, 64 bits together. */
function hashes(path: string): [number, number] {
  const text = path.toLowerCase();
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, b >>> 0];
}
