/**
 * When a tweet was posted, from whichever of its fields says so. Pure, and never throws: a date
 * that does not parse, or lies outside the years X has existed, is no date at all.
 */

/** The day of the first tweet: nothing on X is older. */
const EARLIEST_TWEET_MS = Date.UTC(2006, 2, 21);
/** Later than any tweet can be, yet well inside what a Date holds (snowflake ids reach 2149). */
const LATEST_TWEET_MS = Date.UTC(2100, 0, 1);
/** X's epoch, for dating a tweet by its snowflake id when the payload gives no date. */
const SNOWFLAKE_EPOCH_MS = 1288834974657n;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TWITTER_DATE = /^\w{3} (\w{3}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$/;
// Date.parse alone would take "12" for December 2001: only a full ISO 8601 date-time is read.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** The date fields a tweet may carry, as agntdata and X's v1.1 name them. */
export interface DateFields {
  creation_date?: string | null | undefined;
  created_at?: string | null | undefined;
  /** Seconds since the Unix epoch. */
  timestamp?: number | null | undefined;
}

export function isTweetTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= EARLIEST_TWEET_MS && ms < LATEST_TWEET_MS;
}

/** Epoch ms of `Sat Apr 23 22:34:21 +0000 2022` or an ISO 8601 date-time; NaN when it is neither. */
export function parseDateText(text: string): number {
  const m = TWITTER_DATE.exec(text);
  if (m) {
    const [, mon, day, hh, mm, ss, sign, oh, om, year] = m;
    const month = MONTHS.indexOf(mon ?? '');
    const fields = [day, hh, mm, ss, oh, om].map(Number);
    const [d = 0, h = 0, min = 0, s = 0, offH = 0, offM = 0] = fields;
    if (month < 0 || d < 1 || d > 31 || h > 23 || min > 59 || s > 60 || offH > 14 || offM > 59) return Number.NaN;
    const offsetMs = (sign === '-' ? -1 : 1) * (offH * 60 + offM) * 60_000;
    return Date.UTC(Number(year), month, d, h, min, s) - offsetMs;
  }
  return ISO_DATE_TIME.test(text) ? Date.parse(text) : Number.NaN;
}

/** Why a date text is no tweet date (`not a date` / `out of range`), or undefined when it is one. */
export function dateTextProblem(text: string): string | undefined {
  const ms = parseDateText(text);
  if (Number.isNaN(ms)) return 'not a date';
  return isTweetTime(ms) ? undefined : 'out of range';
}

/** A snowflake's creation time; undefined for the small sequential ids of before late 2010. */
function snowflakeTime(id: string): number | undefined {
  if (!/^\d{1,20}$/.test(id)) return undefined;
  const value = BigInt(id);
  if (value <= 1n << 32n) return undefined;
  const ms = Number((value >> 22n) + SNOWFLAKE_EPOCH_MS);
  return isTweetTime(ms) ? ms : undefined;
}

/**
 * The creation time in epoch ms: the first of `creation_date`, `created_at`, `timestamp` and the
 * snowflake id that gives a tweet date; undefined when none does.
 */
export function createdAtMs(fields: DateFields, tweetId: string | undefined): number | undefined {
  for (const text of [fields.creation_date, fields.created_at]) {
    if (typeof text !== 'string') continue;
    const ms = parseDateText(text);
    if (isTweetTime(ms)) return ms;
  }
  if (typeof fields.timestamp === 'number' && isTweetTime(fields.timestamp * 1000)) return fields.timestamp * 1000;
  return tweetId === undefined ? undefined : snowflakeTime(tweetId);
}

/** The same, as ISO 8601 (`2022-04-23T22:34:21.000Z`). */
export function createdAt(fields: DateFields, tweetId: string | undefined): string | undefined {
  const ms = createdAtMs(fields, tweetId);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
