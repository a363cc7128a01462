import { formatBytes, formatDollars, plural, type Progress } from './summary.js';

/**
 * The progress line, as text: while paging, what is known so far; once paging has ended (the
 * total is known), `n/total files · bytes of ~total · rate · ETA`. Pure: the reporter feeds it
 * the counts and the rate it measured.
 */
export function progressLine(p: Progress, bytesPerSecond: number | undefined): string {
  // Files this run wants on disk (found, less what the filters skip), and those it is done with.
  const total = p.found - p.skipped;
  const done = p.downloaded + p.exists + p.failed + p.planned;
  const failed = p.failed > 0 ? ` · ${p.failed} failed` : '';
  const rate = bytesPerSecond === undefined ? undefined : `${formatBytes(bytesPerSecond)}/s`;
  if (!p.pagingDone) {
    const files = `${plural(total, 'file')} found, ${done} done${failed}`;
    return `paging: ${plural(p.pages, 'page')} · ${files} · ${formatBytes(p.bytes)}${rate ? ` at ${rate}` : ''} · ${formatDollars(p.cents)}`;
  }
  const estimate = estimatedTotalBytes(p, total - done);
  const bytes = `${formatBytes(p.bytes)}${estimate === undefined || done === total ? '' : ` of ~${formatBytes(estimate)}`}`;
  const eta = estimate === undefined || !bytesPerSecond ? undefined : (estimate - p.bytes) / bytesPerSecond;
  const parts = [`${done}/${plural(total, 'file')}`, bytes];
  if (rate) parts.push(rate);
  if (eta !== undefined && done < total) parts.push(`ETA ${formatDuration(eta * 1000)}`);
  return `${parts.join(' · ')}${failed} · ${formatDollars(p.cents)}`;
}

/**
 * What the files still to fetch will weigh, at the average of the ones fetched so far (the API
 * tells no sizes); undefined before the first one is saved.
 */
function estimatedTotalBytes(p: Progress, remaining: number): number | undefined {
  if (p.downloaded === 0) return remaining <= 0 ? p.bytes : undefined;
  return p.bytes + Math.max(0, remaining) * (p.bytes / p.downloaded);
}

/** `45s`, `3m05s`, `2h10m`; under a second is `<1s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 1) return '<1s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * Bytes per second over the last `windowMs`: recent enough to follow a change of pace, long
 * enough that one big file landing does not swing it.
 */
export class RateMeter {
  private readonly samples: { at: number; bytes: number }[] = [];
  constructor(
    private readonly now: () => number,
    private readonly windowMs = 10_000,
  ) {
    this.samples.push({ at: now(), bytes: 0 });
  }

  /** Record the running byte count; returns the rate, undefined until there is something to measure. */
  sample(bytes: number): number | undefined {
    const at = this.now();
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && (this.samples[1]?.at ?? at) <= at - this.windowMs) this.samples.shift();
    const first = this.samples[0];
    if (first === undefined || bytes === 0) return undefined;
    const seconds = (at - first.at) / 1000;
    return seconds > 0 ? Math.max(0, bytes - first.bytes) / seconds : undefined;
  }
}
