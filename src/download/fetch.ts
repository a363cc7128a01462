import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { request, type Dispatcher } from 'undici';
import { hashFile } from '../archive/files.js';
import { TransferError, TransientError } from '../errors.js';
import { displayUrl, refusalOf } from '../net/http.js';
import { isRetryableStatus, isTransientNetworkError, networkMessage, parseRetryAfter, withRetries, type RetryContext } from '../net/retry.js';
import type { FileSource } from '../types.js';

/**
 * One file from X's CDN to disk: streamed into a temp file while hashed, checked against
 * Content-Length, resumed with Range after a cut, fsynced, and only then renamed into place.
 * A failure never leaves a partial file at the final path.
 */

export interface FetchContext {
  dispatcher: Dispatcher;
  allowHosts: readonly string[];
  timeoutMs: number;
  retry: RetryContext;
  tmpDir: string;
  out: string;
}

export interface FileRequest {
  mediaKey: string;
  sources: readonly FileSource[];
  /** The extension from the URL; when unknown, the response's content type decides. */
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
const EXT_BY_TYPE: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
};

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
  try {
    const resume: ResumeState = { validator: undefined };
    const done = await withRetries(`download ${file.mediaKey}`, context.retry, (n) => transfer(source.url, temp, n > 0, resume, context));
    const ext = file.ext ?? EXT_BY_TYPE[done.contentType.split(';')[0]?.trim().toLowerCase() ?? ''] ?? 'bin';
    const relPath = file.pathFor(ext);
    const target = path.join(context.out, relPath);
    if (!target.startsWith(context.out + path.sep)) throw new TransferError(`refusing to write outside --out: ${relPath}`);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await fs.promises.rename(temp, target);
    if (file.mtime) await fs.promises.utimes(target, file.mtime, file.mtime);
    // The file's bytes were fsynced before the rename; the folder is not (see bench/README.md): the
    // journal row that follows is not fsynced either, and after a power loss that forgot the
    // rename, the next run sees the file missing and fetches it again.
    return { path: relPath, bytes: done.bytes, sha256: done.sha256, source_url: done.finalUrl, quality: source.quality, upgradable: false };
  } finally {
    await fs.promises.rm(temp, { force: true });
  }
}

/** What a later attempt needs from an earlier one: the strong validator to send as If-Range. */
interface ResumeState {
  validator: string | undefined;
}

interface Transferred {
  contentType: string;
  finalUrl: string;
  bytes: number;
  sha256: string;
}

/**
 * One attempt: GET (following allowed redirects), then stream into `temp`, hashing as it goes.
 * A retry asks for the rest with Range and continues on a matching 206; any other answer starts
 * the file over. The file on disk, not a counter, says where the rest starts: each chunk is
 * written before the next is read, and a cut trims the file to exactly what was read.
 */
async function transfer(url: string, temp: string, retrying: boolean, resume: ResumeState, context: FetchContext): Promise<Transferred> {
  const partial = retrying ? await hashFile(temp) : undefined;
  const prefix = partial && partial.bytes > 0 ? partial : undefined;
  const resumeFrom = prefix?.bytes ?? 0;
  // Opened before the request, so the body is read the moment it arrives: when the connection
  // then fails, undici discards what it still holds, and that would have to be fetched again.
  const handle = await fs.promises.open(temp, resumeFrom > 0 ? 'r+' : 'w').catch((error: unknown) => {
    throw new TransferError(`cannot write ${temp}: ${networkMessage(error)}`);
  });
  try {
    const { response, finalUrl } = await get(url, resumeFrom > 0 ? { from: resumeFrom, validator: resume.validator } : undefined, context);
    const { statusCode, headers } = response;
    const resumed = statusCode === 206 && resumeFrom > 0 && rangeStart(headers['content-range']) === resumeFrom;
    if ((statusCode === 416 && resumeFrom > 0) || (statusCode === 206 && !resumed)) {
      // Our partial file is not a prefix the server will continue: drop it, start over next time.
      await response.body.dump().catch(() => undefined);
      await handle.truncate(0);
      throw new TransientError(`${hostOf(finalUrl)} would not resume at byte ${resumeFrom} (HTTP ${statusCode}); starting over`);
    }
    if (statusCode !== 200 && statusCode !== 206) {
      await response.body.dump().catch(() => undefined);
      const retryAfterMs = parseRetryAfter(headers['retry-after']);
      if (isRetryableStatus(statusCode)) throw new TransientError(`HTTP ${statusCode} from ${hostOf(finalUrl)}`, { status: statusCode, retryAfterMs });
      throw new TransferError(`HTTP ${statusCode} from ${displayUrl(new URL(finalUrl))}`, statusCode);
    }
    if (!resumed) resume.validator = strongValidator(headers);
    const length = lengthOf(headers['content-length']);
    const expected = length === undefined ? undefined : (resumed ? resumeFrom : 0) + length;
    const hash = resumed && prefix ? prefix.hash : createHash('sha256');
    let bytes = resumed ? resumeFrom : 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        writeAt(handle.fd, chunk, bytes, temp);
        hash.update(chunk);
        bytes += chunk.length;
      }
    } catch (error) {
      response.body.destroy();
      await handle.truncate(bytes);
      if (error instanceof TransferError) throw error;
      if (isTransientNetworkError(error)) throw new TransientError(`${hostOf(finalUrl)}: transfer cut after ${bytes} bytes (${networkMessage(error)})`);
      throw error;
    }
    // A restart can be shorter than what an earlier attempt left behind.
    await handle.truncate(bytes);
    if (expected !== undefined && bytes !== expected) {
      throw new TransientError(`${hostOf(finalUrl)}: body ended at ${bytes} of ${expected} bytes`);
    }
    await handle.sync();
    const type = headers['content-type'];
    return { contentType: Array.isArray(type) ? (type[0] ?? '') : (type ?? ''), finalUrl, bytes, sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

/** GET with redirects followed by hand, so every hop is checked against the allowlist. */
async function get(
  url: string,
  range: { from: number; validator: string | undefined } | undefined,
  context: FetchContext,
): Promise<{ response: Dispatcher.ResponseData; finalUrl: string }> {
  // If-Range: should the file have changed since the cut, the server sends all of the new one.
  const headers: Record<string, string> = range ? { range: `bytes=${range.from}-`, ...(range.validator ? { 'if-range': range.validator } : {}) } : {};
  let current = new URL(url);
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
      current = resolveLocation(Array.isArray(location) ? (location[0] ?? '') : location, current);
      continue;
    }
    return { response, finalUrl: current.toString() };
  }
}

function resolveLocation(location: string, base: URL): URL {
  try {
    return new URL(location, base);
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

/** A strong ETag (weak ones may not be used with If-Range), else Last-Modified. */
function strongValidator(headers: Dispatcher.ResponseData['headers']): string | undefined {
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  const etag = first(headers['etag']);
  if (etag !== undefined && !etag.startsWith('W/')) return etag;
  return first(headers['last-modified']);
}

function lengthOf(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

function rangeStart(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value === undefined ? null : /^bytes (\d+)-/.exec(value);
  return m ? Number(m[1]) : undefined;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
