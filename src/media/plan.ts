import { refusalOf } from '../net/http.js';
import type { FileSource, MediaItem, MediaType, Plan, Variant } from '../types.js';

export interface PlanOptions {
  types: ReadonlySet<MediaType>;
  includeReposts: boolean;
  /** Media hosts that may be fetched: `host` or `host:port` entries, as `isAllowedUrl` reads them. */
  allowHosts: readonly string[];
  /** Inclusive UTC bounds on the tweet's creation time. */
  since?: Date | undefined;
  until?: Date | undefined;
}

/** Photo sizes to ask X's CDN for, best first; each falls back to the next on 404. */
const PHOTO_SIZES = ['orig', '4096x4096', 'large'] as const;
const PHOTO_EXTENSIONS = new Set(['jpg', 'jpeg', 'png', 'webp', 'gif']);
const DAY_MS = 86_400_000;

/** Decide what to do with one discovered item: the file to fetch (with fallbacks), or why not. */
export function planItem(item: MediaItem, options: PlanOptions): Plan {
  const skip = (reason: string): Plan => ({ kind: 'skip', item, reason });
  const { media, tweet } = item;
  if (!options.types.has(media.type)) return skip(`filtered: type ${media.type}`);
  if (!options.includeReposts && tweet.source_tweet_id !== undefined) return skip('filtered: repost');
  const created = tweet.created_at ? Date.parse(tweet.created_at) : Number.NaN;
  if (options.since && created < options.since.getTime()) return skip('filtered: before --since');
  if (options.until && created >= options.until.getTime() + DAY_MS) return skip('filtered: after --until');
  if (item.availability !== undefined && item.availability !== 'Available') return skip(`unavailable: ${item.availability}`);

  if (media.type === 'photo') {
    if (!media.url) return skip('no-url');
    const refusal = fieldRefusal('url', media.url, options.allowHosts);
    return refusal ? skip(refusal) : { kind: 'download', item, ...photoSources(media.url) };
  }
  const variants = media.variants ?? [];
  const mp4s = rankMp4Variants(variants);
  if (mp4s.length === 0) return skip(variants.length === 0 ? 'no-variants' : variants.some(isHls) ? 'hls-only' : 'no-mp4');
  // Any candidate refused, the item waits for --allow-host rather than settle for a lesser file.
  for (const v of mp4s) {
    const refusal = fieldRefusal(`variants.${variants.indexOf(v)}.url`, v.url, options.allowHosts);
    if (refusal) return skip(refusal);
  }
  const sources = mp4s.map((v): FileSource => ({ url: v.url, quality: videoQuality(v), fallbackOn404: true }));
  return { kind: 'download', item, sources, ext: 'mp4' };
}

/** Why a media URL may not be fetched, naming the field and the host; undefined when it may. */
function fieldRefusal(field: string, text: string, allowHosts: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${field}: not an http(s) URL`;
  }
  // The scheme said as a payload's field (its value may be anything); the host as for any fetch.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${field}: not an http(s) URL (${url.protocol.slice(0, 32)})`;
  const refused = refusalOf(url, allowHosts);
  return refused === undefined ? undefined : `${field}: ${refused}`;
}

/**
 * `https://pbs.twimg.com/media/<id>.jpg` → `…/media/<id>?format=jpg&name=orig`, then the smaller
 * named sizes, then the URL as given. Same scheme and host as the payload's own URL.
 */
export function photoSources(mediaUrl: string): { sources: FileSource[]; ext: string | undefined } {
  let url: URL;
  try {
    url = new URL(mediaUrl);
  } catch {
    return { sources: [{ url: mediaUrl, quality: 'as-given', fallbackOn404: false }], ext: undefined };
  }
  const match = /^(.*)\.([A-Za-z0-9]+)$/.exec(url.pathname);
  const formatParam = url.searchParams.get('format');
  const ext = (formatParam ?? match?.[2])?.toLowerCase();
  const plain: FileSource = { url: mediaUrl, quality: 'as-given', fallbackOn404: false };
  if (!ext || !PHOTO_EXTENSIONS.has(ext)) return { sources: [plain], ext: undefined };
  const base = `${url.origin}${formatParam ? url.pathname : (match?.[1] ?? url.pathname)}`;
  const sized = PHOTO_SIZES.map((name): FileSource => ({ url: `${base}?format=${ext}&name=${name}`, quality: name, fallbackOn404: true }));
  return { sources: [...sized, plain], ext: ext === 'jpeg' ? 'jpg' : ext };
}

/** mp4 variants, best first: highest bit_rate, then the larger `/vid/<W>x<H>/` resolution. HLS/DASH never. */
export function rankMp4Variants(variants: readonly Variant[]): Variant[] {
  return variants
    .filter((v) => v.content_type === 'video/mp4')
    .sort((a, b) => (b.bit_rate ?? -1) - (a.bit_rate ?? -1) || pixels(b.url) - pixels(a.url));
}

function isHls(v: Variant): boolean {
  return v.content_type.toLowerCase() === 'application/x-mpegurl';
}

function resolution(url: string): string | undefined {
  return /\/(\d+x\d+)\//.exec(url)?.[1];
}

function pixels(url: string): number {
  const [w, h] = (resolution(url) ?? '0x0').split('x').map(Number);
  return (w ?? 0) * (h ?? 0);
}

function videoQuality(v: Variant): string {
  const res = resolution(v.url);
  return `mp4 ${v.bit_rate ?? 0}bps${res ? ` ${res}` : ''}`;
}
