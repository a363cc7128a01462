import fs from 'node:fs';

/** Make a rename in `dir` durable. Some file systems refuse fsync on a folder; the rename is still atomic there. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // See above.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
