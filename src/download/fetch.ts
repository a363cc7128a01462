import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { request, type Dispatcher } from 'undici';
import { createExclusive, fsyncAsync, hashHandle, isSameFile, moveIntoPlace, readHead, type SafeFolders } from '../archive/files.js';
import { StallError, TransferError, TransientError, UnsafePathError } from '../errors.js';
import { displayUrl, refusalOf, withoutUserinfo } from '../net/http.js';
import { STALL_RETRIES, stallMessage, watchRate, type RateLimits } from '../net/rate.js';
import { isTransientNetworkError, networkMessage, withRetries, type RetryContext } from '../net/retry.js';
import type { FileSource, MediaType } from '../types.js';
import { extensionOf, headerValue, hostOf, judgeAnswer, signatureProblem, SNIFF_BYTES, strongValidator } from './checks.js';

/**
 * One file from X's CDN to disk: streamed into a temp file while hashed, checked against what
 * the server announced (length, Content-Range) and against the media type expected (its first
 * bytes), resumed with Range after a cut, fsynced, and only then renamed into place. A failure
 * never leaves a partial file at the final path, and nothing is written through a link.
 */

export interface FetchContext {
  dispatcher: Dispatcher;
  allowHosts: readonly string[];
  timeoutMs: number;
  /** --min-rate: a body slower than this (bytes/s), averaged over timeoutMs, is a stall. */
  minRate: number;
  /** --max-file-size: a body announced or counted larger than this is refused. */
  maxFileSize: number;
  retry: RetryContext;
  tmpDir: string;
  out: string;
  /** Where in --out files may go (each folder checked once per run). */
  folders: SafeFolders;
}

export interface FileRequest {
  mediaKey: string;
  /** What the body must be: photos JPEG, PNG, GIF or WebP; videos and GIFs MP4. */
  type: MediaType;
  sources: readonly FileSource[];
  /** The extension from the URL; when unknown, the file's first bytes decide. */
  ext: string | undefined;
  /** Final path relative to --out for a given extension; called once the extension is known. */
  pathFor: (ext: string) => string;
  mtime: Date | undefined;
}

export interface SavedFile {
  path: string;
  bytes: number;
  sha256: string;
  source_url: string;
  quality: string;
  upgradable: boolean;
}

const MAX_REDIRECTS = 5;

/** Try each source in turn (404 → next size); returns the saved file or throws TransferError. */
export async function fetchFile(file: FileRequest, context: FetchContext): Promise<SavedFile> {
  let upgradable = false;
  let lastError: unknown;
  for (const [index, source] of file.sources.entries()) {
    const isLast = index === file.sources.length - 1;
    try {
      const saved = await fetchSource(file, source, context);
      return { ...saved, upgradable };
    } catch (error) {
      if (context.retry.signal.aborted) throw error;
      lastError = error;
      if (error instanceof TransferError && error.status === 404 && source.fallbackOn404 && !isLast) continue;
      // The better size failed for a passing reason: take the next one now, try again next run.
      if (error instanceof TransientError && source.fallbackOn404 && !isLast) {
        upgradable = true;
        continue;
      }
      break;
    }
  }
  if (lastError instanceof TransferError) throw lastError;
  if (lastError instanceof TransientError) {
    const { retries } = context.retry;
    throw new TransferError(`${lastError.message} (gave up after ${retries} ${retries === 1 ? 'retry' : 'retries'})`);
  }
  throw lastError;
}

async function fetchSource(file: FileRequest, source: FileSource, context: FetchContext): Promise<SavedFile> {
  const temp = path.join(context.tmpDir, `${file.mediaKey.replace(/[^\w-]/g, '_')}.part`);
  if (!(await context.folders.isInside(context.tmpDir))) throw new TransferError(`refusing to write in ${context.tmpDir}: it is not a real folder inside --out`);
  // Created before the request, so the body is read the moment it arrives: when the connection
  // then fails, undici discards what it still holds, and that would have to be fetched again.
  // Exclusively, never through a link, and kept open across attempts: nothing reopens it by name.
  const fd = await createExclusive(temp).catch((error: unknown) => {
    throw new TransferError(`cannot write ${temp}: ${networkMessage(error)}`);
  });
  let moved = false;
  try {
    const resume: ResumeState = { validator: undefined, announced: undefined, written: 0 };
    let stalls = 0;
    const done = await withRetries(`download ${file.mediaKey}`, context.retry, async (n) => {
      try {
        return await transfer(source.url, { fd, path: temp, type: file.type }, n > 0, resume, context);
      } catch (error) {
        // A server that trickles rarely recovers: one more try, not --retries more windows.
        if (error instanceof StallError && ++stalls > Math.min(STALL_RETRIES, context.retry.retries)) {
          throw new TransferError(`${error.message} (gave up after ${stalls - 1} ${stalls === 2 ? 'retry' : 'retries'})`);
        }
        throw error;
      }
    });
    const relPath = file.pathFor(file.ext ?? extensionOf(done.head) ?? 'bin');
    const target = await placeFor(relPath, context);
    // The name must still be our file: a link put in its place is never renamed into --out.
    if (!isSameFile(fd, temp)) throw new TransferError(`the temp file ${temp} was replaced while downloading; nothing kept`);
    // The tweet's date through the descriptor (no name looked up, no link followed), then one
    // fsync makes bytes and date durable before the rename shows the file.
    if (file.mtime) fs.futimesSync(fd, file.mtime, file.mtime);
    await fsyncAsync(fd).catch((error: unknown) => {
      throw new TransferError(`cannot write ${temp}: ${networkMessage(error)}`);
    });
    await moveIntoPlace(fd, temp, target, done.sha256).catch((error: unknown) => {
      throw new TransferError(`cannot write ${relPath}: ${networkMessage(error)}`);
    });
    moved = true;
    // The file's bytes were fsynced before the rename; the folder is not (see bench/README.md): the
    // journal row that follows is not fsynced either, and after a power loss that forgot the
    // rename, the next run sees the file missing and fetches it again.
    return { path: relPath, bytes: done.bytes, sha256: done.sha256, source_url: done.finalUrl, quality: source.quality, upgradable: false };
  } finally {
    fs.closeSync(fd);
    if (!moved) fs.rmSync(temp, { force: true });
  }
}

/** The absolute path for `relPath`, its folders made and checked; a refusal is the item's failure. */
async function placeFor(relPath: string, context: FetchContext): Promise<string> {
  try {
    return await context.folders.target(relPath);
  } catch (error) {
    if (error instanceof UnsafePathError) throw new TransferError(error.message);
    throw new TransferError(`cannot write ${relPath}: ${networkMessage(error)}`);
  }
}

/** What a later attempt needs from an earlier one: If-Range's validator, the total first announced. */
interface ResumeState {
  validator: string | undefined;
  announced: number | undefined;
  /** The most bytes the temp file has held: past them it is known to be empty. */
  written: number;
}

interface TempFile {
  fd: number;
  path: string;
  type: MediaType;
}

interface Transferred {
  finalUrl: string;
  bytes: number;
  sha256: string;
  head: Buffer;
}

/**
 * One attempt: GET (following allowed redirects), then stream into the temp file, hashing as it
 * goes. A retry asks for the rest with Range and continues on a 206 that starts where asked and
 * whose total is the one first announced; any other answer starts the file over. The file on
 * disk, not a counter, says where the rest starts: each chunk is written before the next is
 * read, and a cut trims the file to exactly what was read.
 */
async function transfer(url: string, temp: TempFile, retrying: boolean, resume: ResumeState, context: FetchContext): Promise<Transferred> {
  const { fd } = temp;
  const partial = retrying ? await hashHandle(fd) : undefined;
  const prefix = partial && partial.bytes > 0 ? partial : undefined;
  const resumeFrom = prefix?.bytes ?? 0;
  const { response, finalUrl } = await get(url, resumeFrom > 0 ? { from: resumeFrom, validator: resume.validator } : undefined, context);
  const answer = judgeAnswer(response.statusCode, response.headers, { resumeFrom, announced: resume.announced, maxFileSize: context.maxFileSize, finalUrl });
  if ('refused' in answer) {
    await response.body.dump().catch(() => undefined);
    if (answer.restart) fs.ftruncateSync(fd, 0);
    throw answer.refused;
  }
  if (answer.startAt === 0) resume.validator = strongValidator(response.headers);
  resume.announced = answer.total;
  const host = hostOf(finalUrl);
  const hash = answer.startAt > 0 && prefix ? prefix.hash : createHash('sha256');
  const { bytes, head: streamedHead } = await streamBody(response.body, temp, answer.startAt, hash, host, context, resume);
  if (answer.endsAt !== undefined && bytes !== answer.endsAt) throw new TransientError(`${host}: body ended at ${bytes} of ${answer.endsAt} bytes`);
  // A short 206 (its range ends before the total) is a cut: the next attempt asks for the rest.
  if (answer.total !== undefined && bytes !== answer.total) throw new TransientError(`${host}: answered up to byte ${bytes} of ${answer.total}; asking for the rest`);
  const head = answer.startAt === 0 ? streamedHead : readHead(fd, SNIFF_BYTES);
  const problem = signatureProblem(head, temp.type, host);
  if (problem !== undefined) throw new TransferError(problem);
  return { finalUrl, bytes, sha256: hash.digest('hex'), head };
}

/**
 * The body into the temp file from byte `startAt`; returns where the file now ends. Too slow
 * over a window (--min-rate) is a StallError; past --max-file-size, or a fresh body whose first
 * bytes are not the media expected, is refused at once rather than after the whole body.
 */
async function streamBody(
  body: Dispatcher.ResponseData['body'],
  temp: TempFile,
  startAt: number,
  hash: Hash,
  host: string,
  context: FetchContext,
  resume: ResumeState,
): Promise<{ bytes: number; head: Buffer }> {
  const limits: RateLimits = { minBytesPerSecond: context.minRate, windowMs: context.timeoutMs };
  const watch = watchRate(body, limits);
  let bytes = startAt;
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      writeAt(temp.fd, chunk, bytes, temp.path);
      hash.update(chunk);
      bytes += chunk.length;
      watch.add(chunk.length);
      if (bytes > context.maxFileSize) throw new TransferError(`${host} sent more than --max-file-size ${context.maxFileSize} bytes; refused`);
      if (startAt === 0 && head.length < SNIFF_BYTES) {
        head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
        const problem = head.length === SNIFF_BYTES ? signatureProblem(head, temp.type, host) : undefined;
        if (problem !== undefined) throw new TransferError(problem);
      }
    }
  } catch (error) {
    body.destroy();
    resume.written = Math.max(resume.written, bytes);
    fs.ftruncateSync(temp.fd, bytes);
    if (error instanceof TransferError) throw error;
    if (watch.stalled) throw new StallError(stallMessage(`${host}: the body`, limits, bytes - startAt));
    if (isTransientNetworkError(error)) throw new TransientError(`${host}: transfer cut after ${bytes} bytes (${networkMessage(error)})`);
    throw error;
  } finally {
    watch.stop();
  }
  // A restart can be shorter than what an earlier attempt left behind.
  if (resume.written > bytes) fs.ftruncateSync(temp.fd, bytes);
  resume.written = bytes;
  return { bytes, head };
}

/** GET with redirects followed by hand, so every hop is checked against the allowlist. */
async function get(
  url: string,
  range: { from: number; validator: string | undefined } | undefined,
  context: FetchContext,
): Promise<{ response: Dispatcher.ResponseData; finalUrl: string }> {
  // identity: the bytes hashed and kept are the file's own. If-Range: should the file have
  // changed since the cut, the server sends all of the new one.
  const headers: Record<string, string> = {
    'accept-encoding': 'identity',
    ...(range ? { range: `bytes=${range.from}-`, ...(range.validator ? { 'if-range': range.validator } : {}) } : {}),
  };
  let current = new URL(withoutUserinfo(url));
  for (let hop = 0; ; hop++) {
    const refusal = refusalOf(current, context.allowHosts);
    if (refusal !== undefined) throw new TransferError(hop === 0 ? refusal : `redirected: ${refusal}`);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(current, {
        method: 'GET',
        dispatcher: context.dispatcher,
        signal: context.retry.signal,
        headers,
        headersTimeout: context.timeoutMs,
        bodyTimeout: context.timeoutMs,
      });
    } catch (error) {
      if (isTransientNetworkError(error)) throw new TransientError(`${current.host}: ${networkMessage(error)}`);
      if (context.retry.signal.aborted) throw error;
      throw new TransferError(`${current.host}: ${networkMessage(error)}`);
    }
    const location = response.headers['location'];
    if (response.statusCode >= 300 && response.statusCode < 400 && location !== undefined) {
      await response.body.dump().catch(() => undefined);
      if (hop >= MAX_REDIRECTS) throw new TransferError(`too many redirects from ${displayUrl(new URL(url))}`);
      current = resolveLocation(headerValue(location) ?? '', current);
      continue;
    }
    return { response, finalUrl: current.toString() };
  }
}

/** The redirect target, without user info: it is followed, recorded and printed without it. */
function resolveLocation(location: string, base: URL): URL {
  try {
    return new URL(withoutUserinfo(new URL(location, base).toString()));
  } catch {
    throw new TransferError(`${base.host} redirected to an address that is not a URL`);
  }
}

/**
 * Written here, synchronously, while the chunk is still in the CPU cache from the socket read:
 * a thread-pool write per chunk costs a hand-off each way and a cold copy (bench/README.md has
 * the figures). A page-cache write takes microseconds; curl and aria2c write the same way.
 */
function writeAt(fd: number, chunk: Buffer, position: number, temp: string): void {
  try {
    for (let offset = 0; offset < chunk.length; ) offset += fs.writeSync(fd, chunk, offset, chunk.length - offset, position + offset);
  } catch (error) {
    throw new TransferError(`cannot write ${temp}: ${networkMessage(error)}`);
  }
}
