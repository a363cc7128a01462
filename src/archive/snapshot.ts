import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir } from './fsync.js';
import type { ScanState } from '../types.js';
import { HANDLED, MediaIndex, type IndexArrays } from './index.js';
import type { JournalFile } from './journal.js';
import { PathTable, type PathArrays } from './paths.js';
import type { ArchiveState } from './replay.js';

/**
 * `index.bin`: the index as it stood after the journal's first `journalBytes` bytes, so an open
 * reads it in one go and replays only the journal's tail. It is a cache: written atomically
 * (temp file, fsync, rename), checked against the journal's bytes before it is trusted, and
 * rebuilt from the journal whenever it is missing, stale or unreadable.
 */

export const SNAPSHOT_FILE = 'index.bin';
const MAGIC = 'XMDIDX02';
/** The journal bytes just before the snapshot's end, hashed: enough to tell another journal. */
export const CHECK_BYTES = 4096;

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
  paths: PathArrays;
}

export function checkOf(bytes: Buffer): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** Write the snapshot atomically. */
export function saveSnapshot(file: string, snapshot: Snapshot): void {
  const header = Buffer.from(JSON.stringify(snapshot.header));
  const parts: Uint8Array[] = [Buffer.from(MAGIC), u32(header.length), header];
  const { index: i, paths: p } = snapshot;
  const arrays: ArrayBufferView[] = [i.prefix, i.hi, i.lo, i.flags, i.item, i.file, p.h1, p.h2, p.owners];
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

/** The snapshot, or undefined when it is missing or unreadable (the caller rebuilds). */
export function loadSnapshot(file: string): Snapshot | undefined {
  let bytes: Uint8Array;
  try {
    const size = fs.statSync(file).size;
    // A buffer of its own, so the typed arrays below are aligned views on it.
    bytes = new Uint8Array(new ArrayBuffer(size));
    const fd = fs.openSync(file, 'r');
    try {
      for (let at = 0; at < size; ) {
        const read = fs.readSync(fd, bytes, at, size - at, at);
        if (read === 0) return undefined;
        at += read;
      }
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  try {
    const buffer = Buffer.from(bytes.buffer);
    if (buffer.toString('latin1', 0, 8) !== MAGIC) return undefined;
    const headerLength = buffer.readUInt32LE(8);
    const header = JSON.parse(buffer.toString('utf8', 12, 12 + headerLength)) as SnapshotHeader;
    let at = 12 + headerLength;
    const take = <T>(make: (b: ArrayBuffer, offset: number, length: number) => T, width: number, length: number): T => {
      at += (8 - (at % 8)) % 8;
      if (at + width * length > bytes.length) throw new Error('short snapshot');
      const view = make(bytes.buffer as ArrayBuffer, at, length);
      at += width * length;
      return view;
    };
    const n = header.capacity;
    const index: IndexArrays = {
      prefix: take((b, o, l) => new Uint16Array(b, o, l), 2, n),
      hi: take((b, o, l) => new Uint32Array(b, o, l), 4, n),
      lo: take((b, o, l) => new Uint32Array(b, o, l), 4, n),
      flags: take((b, o, l) => new Uint8Array(b, o, l), 1, n),
      item: take((b, o, l) => new Float64Array(b, o, l), 8, n),
      file: take((b, o, l) => new Float64Array(b, o, l), 8, n),
    };
    const m = header.pathCapacity;
    const paths: PathArrays = {
      h1: take((b, o, l) => new Uint32Array(b, o, l), 4, m),
      h2: take((b, o, l) => new Uint32Array(b, o, l), 4, m),
      owners: take((b, o, l) => new Int32Array(b, o, l), 4, m),
    };
    return { header, index, paths };
  } catch {
    return undefined;
  }
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
