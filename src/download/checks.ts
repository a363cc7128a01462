import { TransferError, TransientError } from '../errors.js';
import { displayUrl } from '../net/http.js';
import { isRetryableStatus, parseRetryAfter } from '../net/retry.js';
import type { MediaType } from '../types.js';

/**
 * What a transfer is checked against before its file is trusted: the status and headers (does a
 * 206 continue exactly where we asked, towards the length first announced? is the body encoded,
 * or too large?) and the first bytes (is this the media type expected, or an error page?).
 * Plain functions over bytes and headers.
 */

/** Enough of a file's start to tell every format below apart. */
export const SNIFF_BYTES = 16;

export type Sniffed = 'jpeg' | 'png' | 'gif' | 'webp' | 'mp4' | 'html' | 'json' | 'empty' | 'unknown';

const EXTENSION: Partial<Record<Sniffed, string>> = { jpeg: 'jpg', png: 'png', gif: 'gif', webp: 'webp', mp4: 'mp4' };
const PHOTO_FORMATS: readonly Sniffed[] = ['jpeg', 'png', 'gif', 'webp'];

/** The format a file's first bytes announce (magic numbers; MP4 by its leading `ftyp` box). */
export function sniff(head: Buffer): Sniffed {
  if (head.length === 0) return 'empty';
  const ascii = (from: number, to: number) => head.subarray(from, to).toString('latin1');
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(4, 8) === 'ftyp') return 'mp4';
  // Error pages: markup or JSON, after any byte-order mark and white space.
  const text = ascii(0, head.length).replace(/^(\u00ef\u00bb\u00bf)?\s*/, '');
  if (text.startsWith('<')) return 'html';
  if (text.startsWith('{') || text.startsWith('[')) return 'json';
  return 'unknown';
}

/** The file extension a sniffed format is saved with, if it is a media format. */
export function extensionOf(head: Buffer): string | undefined {
  return EXTENSION[sniff(head)];
}

/**
 * Why a body whose file starts with `head` is not the media expected (photos: JPEG, PNG, GIF or
 * WebP; videos and GIFs: MP4), naming what came; undefined when it is.
 */
export function signatureProblem(head: Buffer, type: MediaType, host: string): string | undefined {
  const found = sniff(head);
  const wanted = type === 'photo' ? 'a photo (JPEG, PNG, GIF or WebP)' : 'an MP4';
  if (type === 'photo' ? PHOTO_FORMATS.includes(found) : found === 'mp4') return undefined;
  if (found === 'empty') return `${host} sent an empty body instead of ${wanted}; nothing kept`;
  if (found === 'html') return `${host} sent text/html (an error page?) instead of ${wanted}; nothing kept`;
  if (found === 'json') return `${host} sent application/json instead of ${wanted}; nothing kept`;
  const what = type === 'photo' ? 'not a JPEG, PNG, GIF or WebP image' : 'not an MP4';
  const shown = found === 'unknown' ? `starts ${head.subarray(0, 8).toString('hex').replace(/(..)(?!$)/g, '$1 ')}` : `a ${found.toUpperCase()}`;
  return `${host} sent a body that is ${what} (${shown}); nothing kept`;
}

/** `Content-Range: bytes <start>-<end>/<total>`; `total` undefined for `*`. */
export interface ContentRange {
  start: number;
  end: number;
  total: number | undefined;
}

export function parseContentRange(header: string | undefined): ContentRange | undefined {
  const m = header === undefined ? null : /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [start, end] = [Number(m[1]), Number(m[2])];
  if (end < start) return undefined;
  return { start, end, total: m[3] === '*' ? undefined : Number(m[3]) };
}

/**
 * Why a 206 cannot continue our file: it must start at the byte we asked for, and its total
 * must be the length first announced (when one was). Undefined when it may be appended. A 206
 * that ends before the total is taken (its bytes are the right ones) and is then a cut.
 */
export function rangeProblem(range: ContentRange | undefined, askedFrom: number, announced: number | undefined): string | undefined {
  if (range === undefined) return 'no usable Content-Range';
  if (range.start !== askedFrom) return `it answered from byte ${range.start}`;
  if (range.total === undefined) return 'it gave no total length';
  if (range.end >= range.total) return `its range ends at byte ${range.end} of ${range.total}`;
  if (announced !== undefined && range.total !== announced) return `the total is now ${range.total} bytes, not the ${announced} first announced`;
  return undefined;
}

/** A header's first value. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A Content-Length (or undefined when absent or not a plain number). */
function lengthOf(header: string | string[] | undefined): number | undefined {
  const value = headerValue(header);
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** Where a response's body goes in our file and how long it must make it. */
export interface Answer {
  /** The byte of our file the body's first byte is. */
  startAt: number;
  /** The whole file's length, when the server said it. */
  total: number | undefined;
  /** Where this body must end (a 206's range end + 1, a 200's length). */
  endsAt: number | undefined;
}

/** Why a response is not taken; `restart`: our partial file is no prefix of it, drop it. */
export interface Refusal {
  refused: Error;
  restart: boolean;
}

export interface AnswerContext {
  /** How many bytes of the file we have (and asked the rest of, with Range). */
  resumeFrom: number;
  /** The total length the first answer announced. */
  announced: number | undefined;
  maxFileSize: number;
  finalUrl: string;
}

/**
 * Judge a response by its status and headers, before its body is read: a 200 starts the file, a
 * 206 continues it only where asked and towards the length first announced; an encoded body
 * (we ask for identity) or one announced larger than --max-file-size is refused.
 */
export function judgeAnswer(status: number, headers: Headers, context: AnswerContext): Answer | Refusal {
  const { resumeFrom } = context;
  const host = hostOf(context.finalUrl);
  let answer: Answer;
  if (status === 206) {
    const range = parseContentRange(headerValue(headers['content-range']));
    const problem = resumeFrom > 0 ? rangeProblem(range, resumeFrom, context.announced) : 'no range was asked for';
    if (problem !== undefined || range === undefined) {
      return { refused: new TransientError(`${host} would not resume at byte ${resumeFrom} (HTTP 206: ${problem ?? 'no range'}); starting over`), restart: true };
    }
    answer = { startAt: resumeFrom, total: range.total, endsAt: range.end + 1 };
  } else if (status === 416 && resumeFrom > 0) {
    return { refused: new TransientError(`${host} would not resume at byte ${resumeFrom} (HTTP 416); starting over`), restart: true };
  } else if (status !== 200) {
    if (!isRetryableStatus(status)) return { refused: new TransferError(`HTTP ${status} from ${displayUrl(new URL(context.finalUrl))}`, status), restart: false };
    return { refused: new TransientError(`HTTP ${status} from ${host}`, { status, retryAfterMs: parseRetryAfter(headers['retry-after']) }), restart: false };
  } else {
    const length = lengthOf(headers['content-length']);
    answer = { startAt: 0, total: length, endsAt: length };
  }
  const encoding = headerValue(headers['content-encoding'])?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    return { refused: new TransferError(`${host} sent a ${encoding}-encoded body, which was not asked for (Accept-Encoding: identity); nothing kept`), restart: true };
  }
  if (answer.total !== undefined && answer.total > context.maxFileSize) {
    return { refused: new TransferError(`${host} announced ${answer.total} bytes, more than --max-file-size ${context.maxFileSize}; refused`), restart: true };
  }
  return answer;
}

type Headers = Record<string, string | string[] | undefined>;

/** A strong ETag (weak ones may not be used with If-Range), else Last-Modified. */
export function strongValidator(headers: Headers): string | undefined {
  const etag = headerValue(headers['etag']);
  if (etag !== undefined && !etag.startsWith('W/')) return etag;
  return headerValue(headers['last-modified']);
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
