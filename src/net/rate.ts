import { PayloadError, StallError } from '../errors.js';

/**
 * The minimum rate (--min-rate) that makes every run end by itself. undici's idle timeouts
 * reset on every byte, so a server that trickles one byte a second would hold a transfer, and
 * the run and its lock, for hours. A body that brings less than `minBytesPerSecond`, averaged
 * over a whole window of --timeout seconds, is a stall. Shared by the API client and the CDN.
 */

/** A stall is retried this many times (at most --retries), then the item or the run fails. */
export const STALL_RETRIES = 1;

export interface RateLimits {
  /** Bytes per second; 0 turns the check off. */
  minBytesPerSecond: number;
  /** The window the rate is averaged over (--timeout). */
  windowMs: number;
}

/** Bytes received, sampled once a tick: is the last full window below the minimum? Pure. */
export class RateWindow {
  private readonly marks: { at: number; bytes: number }[];
  private total = 0;

  constructor(
    private readonly limits: RateLimits,
    start: number,
  ) {
    this.marks = [{ at: start, bytes: 0 }];
  }

  add(bytes: number): void {
    this.total += bytes;
  }

  /** Called on each tick (at least once a second): true when the last window fell short. */
  tooSlow(now: number): boolean {
    const { minBytesPerSecond, windowMs } = this.limits;
    if (minBytesPerSecond <= 0) return false;
    this.marks.push({ at: now, bytes: this.total });
    // The baseline is the newest mark at least one window old.
    while ((this.marks[1]?.at ?? Number.POSITIVE_INFINITY) <= now - windowMs) this.marks.shift();
    const base = this.marks[0];
    if (base === undefined || now - base.at < windowMs) return false;
    return (this.total - base.bytes) * 1000 < minBytesPerSecond * (now - base.at);
  }
}

/** A running watch over one body: `add` what arrives; on a stall, `body` is destroyed. */
export interface RateWatch {
  add(bytes: number): void;
  /** Set once the body was destroyed for being too slow. */
  readonly stalled: boolean;
  stop(): void;
}

export function watchRate(body: { destroy(error?: Error): unknown }, limits: RateLimits): RateWatch {
  const window = new RateWindow(limits, Date.now());
  let stalled = false;
  const timer =
    limits.minBytesPerSecond > 0
      ? setInterval(() => {
          if (!window.tooSlow(Date.now())) return;
          stalled = true;
          clearInterval(timer);
          body.destroy(new Error('slower than --min-rate'));
        }, Math.min(1000, limits.windowMs))
      : undefined;
  timer?.unref();
  return {
    add: (bytes) => window.add(bytes),
    get stalled() {
      return stalled;
    },
    stop: () => clearInterval(timer),
  };
}

/** What a stall is called in messages: `<what> came slower than --min-rate 1024 B/s (…)`. */
export function stallMessage(what: string, limits: RateLimits, bytes: number): string {
  return `${what} came slower than --min-rate ${limits.minBytesPerSecond} B/s over ${Math.round(limits.windowMs / 1000)}s (${bytes} bytes received)`;
}

/**
 * A whole response body, under the minimum rate and a size cap (the API's pages are small: an
 * endless body is a broken server, not a page). Too slow: StallError; too large: PayloadError.
 */
export async function readBody(body: AsyncIterable<Buffer> & { destroy(error?: Error): unknown }, limits: RateLimits, maxBytes: number, what: string): Promise<Buffer> {
  const watch = watchRate(body, limits);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      watch.add(chunk.length);
      size += chunk.length;
      if (size > maxBytes) {
        body.destroy();
        throw new PayloadError(`${what}: the response ran past ${maxBytes} bytes, far more than any page; try again later`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (watch.stalled && !(error instanceof PayloadError)) throw new StallError(stallMessage(what, limits, size));
    throw error;
  } finally {
    watch.stop();
  }
  return Buffer.concat(chunks);
}
