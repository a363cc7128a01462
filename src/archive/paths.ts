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
  count = 0;
  private h1: Uint32Array;
  private h2: Uint32Array;
  /** owner slot + 1; 0 marks an empty cell. */
  private owners: Int32Array;

  constructor(capacity = 1024, arrays?: PathArrays) {
    this.h1 = arrays?.h1 ?? new Uint32Array(capacity);
    this.h2 = arrays?.h2 ?? new Uint32Array(capacity);
    this.owners = arrays?.owners ?? new Int32Array(capacity);
    if (arrays) for (const owner of this.owners) if (owner !== 0) this.count += 1;
  }

  /** The arrays as they are, for a snapshot. */
  get arrays(): PathArrays {
    return { h1: this.h1, h2: this.h2, owners: this.owners };
  }

  /** The index slot owning `path`, or -1. */
  owner(path: string): number {
    const [a, b] = hashes(path);
    const cell = this.cellOf(a, b);
    return cell < 0 ? -1 : (this.owners[cell] ?? 0) - 1;
  }

  /** `path` now belongs to `slot` (whoever had it before). */
  claim(path: string, slot: number): void {
    const [a, b] = hashes(path);
    const cell = this.cellOf(a, b);
    if (cell >= 0) {
      this.owners[cell] = slot + 1;
      return;
    }
    if ((this.count + 1) * 2 > this.owners.length) this.grow();
    this.insert(a, b, slot + 1);
  }

  /** Forget `path` if `slot` owns it. */
  release(path: string, slot: number): void {
    const [a, b] = hashes(path);
    let cell = this.cellOf(a, b);
    if (cell < 0 || this.owners[cell] !== slot + 1) return;
    const mask = this.owners.length - 1;
    // Backward-shift deletion: pull later cells of the same run into the hole.
    for (let next = (cell + 1) & mask; this.owners[next] !== 0; next = (next + 1) & mask) {
      const home = (this.h1[next] ?? 0) & mask;
      const between = cell <= next ? home > cell && home <= next : home > cell || home <= next;
      if (between) continue;
      this.h1[cell] = this.h1[next] ?? 0;
      this.h2[cell] = this.h2[next] ?? 0;
      this.owners[cell] = this.owners[next] ?? 0;
      cell = next;
    }
    this.owners[cell] = 0;
    this.count -= 1;
  }

  private cellOf(a: number, b: number): number {
    const mask = this.owners.length - 1;
    for (let cell = a & mask; ; cell = (cell + 1) & mask) {
      if (this.owners[cell] === 0) return -1;
      if (this.h1[cell] === a && this.h2[cell] === b) return cell;
    }
  }

  private insert(a: number, b: number, owner: number): void {
    const mask = this.owners.length - 1;
    let cell = a & mask;
    while (this.owners[cell] !== 0) cell = (cell + 1) & mask;
    this.h1[cell] = a;
    this.h2[cell] = b;
    this.owners[cell] = owner;
    this.count += 1;
  }

  private grow(): void {
    const { h1, h2, owners } = this;
    this.h1 = new Uint32Array(owners.length * 2);
    this.h2 = new Uint32Array(owners.length * 2);
    this.owners = new Int32Array(owners.length * 2);
    this.count = 0;
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
