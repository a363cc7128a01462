import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir } from '../archive/fsync.js';
import { isAlive } from '../archive/lock.js';
import { ViewWriteError } from '../errors.js';
import { DATA_FILE, DATA_HEAD, DATA_TAIL, encodeRow, type ViewItem } from './data.js';
import { PAGE_FILE, pageHtml } from './page.js';

/** Bytes gathered before one write(): few syscalls, and memory stays flat whatever the item count. */
const CHUNK = 64 * 1024;

/**
 * Writes `<out>/index.html` and its data file, each atomically (temp file in `out`, fsync, rename),
 * the data first so the page never names data that is not there. Items are streamed out one by
 * one; the same items in the same order give the same bytes.
 */
export async function writeViewer(out: string, items: AsyncIterable<ViewItem> | Iterable<ViewItem>): Promise<{ items: number }> {
  removeStaleTemps(out);
  let count = 0;
  await writeAtomic(path.join(out, DATA_FILE), async (write) => {
    await write(DATA_HEAD);
    for await (const item of items) {
      await write(`${count === 0 ? '\n' : ',\n'}${encodeRow(item)}`);
      count += 1;
    }
    await write(DATA_TAIL);
  });
  await writeAtomic(path.join(out, PAGE_FILE), (write) => write(pageHtml()));
  fsyncDir(out);
  return { items: count };
}

type Write = (text: string) => Promise<void>;

let temps = 0;
/** Hidden, named after the pid (so a later writer can tell a dead writer's leftovers) and unique within it. */
const tempOf = (target: string) => path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${++temps}.tmp`);
const escaped = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const TEMP = new RegExp(`^\\.(?:${escaped(PAGE_FILE)}|${escaped(DATA_FILE)})\\.(\\d+)\\.\\d+\\.tmp$`);

/** `fill` writes the content through `write`; only file system failures become a ViewWriteError. */
async function writeAtomic(target: string, fill: (write: Write) => Promise<void>): Promise<void> {
  const temp = tempOf(target);
  const fail = (error: unknown) => new ViewWriteError(target, error);
  const handle = await fs.promises.open(temp, 'w').catch((error: unknown) => {
    throw fail(error);
  });
  let pending: string[] = [];
  let size = 0;
  const flush = async () => {
    const buffer = Buffer.from(pending.join(''));
    pending = [];
    size = 0;
    await handle.write(buffer).catch((error: unknown) => {
      throw fail(error);
    });
  };
  try {
    await fill(async (text) => {
      pending.push(text);
      size += text.length;
      if (size >= CHUNK) await flush();
    });
    await flush();
    await handle.sync().catch((error: unknown) => {
      throw fail(error);
    });
    await handle.close().catch((error: unknown) => {
      throw fail(error);
    });
    await fs.promises.rename(temp, target).catch((error: unknown) => {
      throw fail(error);
    });
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
}

/** Temp files a killed writer left behind (its pid is gone): never renamed, so never part of a viewer. */
function removeStaleTemps(out: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(out);
  } catch (error) {
    throw new ViewWriteError(out, error);
  }
  for (const name of names) {
    const pid = TEMP.exec(name)?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid))) fs.rmSync(path.join(out, name), { force: true });
  }
}
