import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir } from './fsync.js';
import type { ScanState } from '../types.js';
import { HANDLED, MediaIndex, type IndexArrays } from './index.js';
import { readRegion, type JournalFile } from './journal.js';
import { PathTable, type PathArrays } from './paths.js';
import type { ArchiveState } from './replay.js';

/**
 * `index.bin`: the index as it stood after the journal's first `journalBytes` bytes, so an open
 * reads it in one go and replays only the journal's tail. It is a cache: written atomically
 * (temp file, fsync, rename), checked against the journal's bytes before it is trusted, and
 * rebuilt from the journal whenever it is missing, stale or unreadable.
 */

export const SNAPSHOT_FILE = 'index.bin';
const MAGIC = 'XMDIDX03';
/** The journal bytes just before the snapshot's end, hashed: enough to tell another journal. */
const CHECK_BYTES = 4096;

/** The small, plain part of the archive's state, kept in the snapshot's JSON header. */
export interface SnapshotHeader {
  journalBytes: number;
  /** sha1 of the journal's last CHECK_BYTES bytes before `journalBytes`. */
  check: string;
  capacity: number;
  pathCapacity: number;
  oddKeys: string[];
  state: unknown;
}

export interface Snapshot {
  header: SnapshotHeader;
  index: IndexArrays;
  paths: PathArrays | (() => PathArrays);
}

function checkOf(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** Write the snapshot atomically. */
export function saveSnapshot(file: string, snapshot: Snapshot): void {
  const header = Buffer.from(JSON.stringify(snapshot.header));
  const parts: Uint8Array[] = [Buffer.from(MAGIC), u32(header.length), header];
  const { index: i } = snapshot;
  const p = typeof snapshot.paths === 'function' ? snapshot.paths() : snapshot.paths;
  const arrays: ArrayBufferView[] = [i.prefix, i.hi, i.lo, i.flags, i.itemLo, i.itemHi, i.fileLo, i.fileHi, p.h1, p.h2, p.owners];
  let size = 12 + header.length;
  for (const array of arrays) {
    const pad = (8 - (size % 8)) % 8;
    parts.push(Buffer.alloc(pad), new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    size += pad + array.byteLength;
  }
  const temp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(temp, 'w');
  try {
    for (const part of parts) for (let at = 0; at < part.length; ) at += fs.writeSync(fd, part, at);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(temp, file);
  fsyncDir(path.dirname(file));
}

/**
 * The snapshot, or undefined when it is missing or unreadable (the caller rebuilds). The path
 * table is read only when first asked for.
 */
function loadSnapshot(file: string): Snapshot | undefined {
  try {
    const start = readExactly(file, 0, 12);
    if (Buffer.from(start).toString('latin1', 0, 8) !== MAGIC) return undefined;
    const headerLength = Buffer.from(start).readUInt32LE(8);
    const header = JSON.parse(Buffer.from(readExactly(file, 12, headerLength)).toString('utf8')) as SnapshotHeader;
    const n = header.capacity;
    const m = header.pathCapacity;
    const layout = new Layout(12 + headerLength);
    const indexAt = [layout.next(2 * n), layout.next(4 * n), layout.next(4 * n), layout.next(n), layout.next(4 * n), layout.next(n), layout.next(4 * n), layout.next(n)];
    const indexEnd = layout.end;
    const pathsAt = [layout.next(4 * m), layout.next(4 * m), layout.next(4 * m)];
    // Read from the first path array's own (8-aligned) start, so the views on it are aligned too.
    const pathsStart = pathsAt[0] ?? indexEnd;
    // A buffer of its own, so the typed arrays below are aligned views on it.
    const first = readExactly(file, 0, indexEnd).buffer;
    const [prefix = 0, hi = 0, lo = 0, flags = 0, itemLo = 0, itemHi = 0, fileLo = 0, fileHi = 0] = indexAt;
    const index: IndexArrays = {
      prefix: new Uint16Array(first, prefix, n),
      hi: new Uint32Array(first, hi, n),
      lo: new Uint32Array(first, lo, n),
      flags: new Uint8Array(first, flags, n),
      itemLo: new Uint32Array(first, itemLo, n),
      itemHi: new Uint8Array(first, itemHi, n),
      fileLo: new Uint32Array(first, fileLo, n),
      fileHi: new Uint8Array(first, fileHi, n),
    };
    const paths = (): PathArrays => {
      const rest = readExactly(file, pathsStart, layout.end - pathsStart).buffer;
      const [h1 = 0, h2 = 0, owners = 0] = pathsAt.map((at) => at - pathsStart);
      return { h1: new Uint32Array(rest, h1, m), h2: new Uint32Array(rest, h2, m), owners: new Int32Array(rest, owners, m) };
    };
    return { header, index, paths };
  } catch {
    return undefined;
  }
}

/** Where each array starts: every one on an 8-byte boundary, in the order they are written. */
class Layout {
  constructor(public end: number) {}
  next(bytes: number): number {
    const at = this.end + ((8 - (this.end % 8)) % 8);
    this.end = at + bytes;
    return at;
  }
}

/** `length` bytes from `offset`, exactly, into a fresh ArrayBuffer. */
/** Exactly `length` bytes of the snapshot from `offset`; a shorter file is a damaged snapshot. */
function readExactly(file: string, offset: number, length: number): Uint8Array {
  const bytes = readRegion(file, offset, length);
  if (bytes.length !== length) throw new Error('short snapshot');
  return bytes;
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}

/** Snapshot the archive as it stands after the journal's current end; returns the bytes it covers. */
export function snapshotArchive(dir: string, state: ArchiveState, journal: JournalFile): number {
  const { index, paths } = state;
  // Run-local marks are never kept.
  for (const slot of index.slots()) index.setFlags(slot, 0, HANDLED);
  const { scans, handles, accounts, lastSeq, cursor, entries, markers, tweetsEnd, epoch } = state;
  const plain: PlainState = { scans: [...scans], handles: [...handles], accounts: [...accounts], lastSeq: [...lastSeq], cursor, entries, markers, tweetsEnd, epoch };
  saveSnapshot(path.join(dir, SNAPSHOT_FILE), {
    header: {
      journalBytes: journal.size,
      check: checkOf(journal.bytesBefore(journal.size, CHECK_BYTES)),
      capacity: index.capacity,
      pathCapacity: paths.arrays.owners.length,
      oddKeys: [...index.state.oddKeys],
      state: plain,
    },
    index: index.state.arrays,
    paths: paths.arrays,
  });
  return journal.size;
}

/** The archive as the snapshot has it, if the snapshot is there and matches the journal's bytes. */
export function restoreArchive(dir: string, journal: JournalFile): { state: ArchiveState; journalBytes: number } | undefined {
  const snapshot = loadSnapshot(path.join(dir, SNAPSHOT_FILE));
  if (snapshot === undefined) return undefined;
  const { header } = snapshot;
  if (header.journalBytes > journal.size || checkOf(journal.bytesBefore(header.journalBytes, CHECK_BYTES)) !== header.check) return undefined;
  const s = header.state as PlainState;
  const state: ArchiveState = {
    index: new MediaIndex(0, snapshot.index, header.oddKeys),
    paths: new PathTable(0, snapshot.paths),
    scans: new Map(s.scans),
    handles: new Map(s.handles),
    accounts: new Map(s.accounts),
    lastSeq: new Map(s.lastSeq),
    cursor: s.cursor,
    entries: s.entries,
    markers: s.markers,
    tweetsEnd: s.tweetsEnd,
    epoch: s.epoch,
  };
  return { state, journalBytes: header.journalBytes };
}

/** The plain part of the state, as the snapshot's header keeps it. */
interface PlainState {
  scans: [string, ScanState][];
  handles: [string, string][];
  accounts: [string, string][];
  lastSeq: [string, number][];
  cursor: number;
  entries: number;
  markers: number;
  tweetsEnd: number;
  epoch: string | undefined;
}
