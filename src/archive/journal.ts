import fs from 'node:fs';
import { ArchiveWriteError } from '../errors.js';

/**
 * The journal file itself: whole lines appended with one write each, read back sequentially in
 * chunks (never as one string, whatever its size) or one line at a time by byte offset.
 */

const CHUNK = 1 << 20;
const NEWLINE = 10;

export interface JournalLine {
  /** Byte offset of the line's first byte. */
  offset: number;
  text: string;
  /** False only for a last line with no newline after it: a write cut short. */
  complete: boolean;
}

export class JournalFile {
  private fd: number | undefined;
  private readOnlyFd: number | undefined;
  /** The file's length as this process has written it (no fstat per append). */
  size: number;

  constructor(readonly path: string) {
    this.size = sizeOf(path);
  }

  /**
   * Append one line (`text` has no newline) in one write; returns its offset. A write that fails
   * part-way (a full disk) is cut back off, so the next line never lands glued to a torn one.
   */
  append(text: string): number {
    const bytes = Buffer.from(`${text}\n`);
    this.fd ??= fs.openSync(this.path, 'a');
    const offset = this.size;
    appendWhole(this.fd, this.path, offset, bytes);
    this.size += bytes.length;
    return offset;
  }

  /** The line that starts at `offset` (without its newline). */
  lineAt(offset: number): string {
    const fd = this.readFd();
    // Most lines (a file, a page of a few items) fit the first read; a long page line reads on.
    let buffer = this.scratch;
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, buffer.length, offset);
      const end = buffer.subarray(0, read).indexOf(NEWLINE);
      if (end >= 0) return buffer.toString('utf8', 0, end);
      if (read < buffer.length) return buffer.toString('utf8', 0, read);
      buffer = Buffer.allocUnsafe(buffer.length * 4);
    }
  }

  private readonly scratch = Buffer.allocUnsafe(2048);

  /**
   * Every line from `from` to the end, in order, read in 1 MiB chunks into one buffer: a line
   * cut by a chunk's end moves to the buffer's start and the next read follows it, so a long
   * journal is read without a new buffer per chunk (the buffer grows only for a longer line).
   */
  *lines(from = 0): Generator<JournalLine> {
    if (this.size <= from && sizeOf(this.path) <= from) return;
    const fd = fs.openSync(this.path, 'r');
    try {
      let buffer = Buffer.allocUnsafe(CHUNK);
      let kept = 0;
      let position = from;
      let lineStart = from;
      for (;;) {
        if (kept === buffer.length) buffer = Buffer.concat([buffer, Buffer.allocUnsafe(buffer.length)]);
        const read = fs.readSync(fd, buffer, kept, buffer.length - kept, position);
        if (read === 0) break;
        position += read;
        const data = buffer.subarray(0, kept + read);
        let start = 0;
        // The kept bytes hold no newline: the search starts after them.
        for (let end = data.indexOf(NEWLINE, kept); end >= 0; end = data.indexOf(NEWLINE, start)) {
          yield { offset: lineStart, text: data.toString('utf8', start, end), complete: true };
          lineStart += end - start + 1;
          start = end + 1;
        }
        kept = data.length - start;
        buffer.copy(buffer, 0, start, data.length);
      }
      if (kept > 0) yield { offset: lineStart, text: buffer.toString('utf8', 0, kept), complete: false };
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Cut the file to `size` bytes (a torn last line). */
  truncate(size: number): void {
    this.closeFd();
    fs.truncateSync(this.path, size);
    this.size = size;
  }

  /** The last `length` bytes before `end`, to tell whether a snapshot still matches the file. */
  bytesBefore(end: number, length: number): Uint8Array {
    const start = Math.max(0, end - length);
    return readRegion(this.path, start, end - start);
  }

  close(): void {
    this.closeFd();
  }

  private readFd(): number {
    this.readOnlyFd ??= fs.openSync(this.path, 'r');
    return this.readOnlyFd;
  }

  private closeFd(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    if (this.readOnlyFd !== undefined) fs.closeSync(this.readOnlyFd);
    this.fd = undefined;
    this.readOnlyFd = undefined;
  }
}

/**
 * Write `bytes` at the end of the append-only file open as `fd` (`size` bytes long), all of it, or
 * cut the file back to `size` and throw: what comes next never lands glued to a torn record.
 */
export function appendWhole(fd: number, file: string, size: number, bytes: Buffer): void {
  try {
    for (let at = 0; at < bytes.length; ) at += fs.writeSync(fd, bytes, at);
  } catch (error) {
    try {
      fs.ftruncateSync(fd, size);
    } catch {
      // Could not cut it back: the torn record is dropped on the next open, as after a crash.
    }
    throw new ArchiveWriteError(file, error);
  }
}

/**
 * Up to `length` bytes of `file` from `offset` (fewer where the file ends), read through one
 * descriptor into an ArrayBuffer of their own (typed-array views of it start aligned).
 */
export function readRegion(file: string, offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(new ArrayBuffer(length));
  const fd = fs.openSync(file, 'r');
  let at = 0;
  try {
    while (at < length) {
      const read = fs.readSync(fd, bytes, at, length - at, offset + at);
      if (read === 0) break;
      at += read;
    }
  } finally {
    fs.closeSync(fd);
  }
  return at === length ? bytes : bytes.subarray(0, at);
}

/** A file's size; 0 when it does not exist yet. */
export function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}
