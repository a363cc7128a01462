import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { normalizeTweet, tweetFacts } from '../src/media/normalize.js';
import { toV2Tweet } from '../src/media/tweet.js';
import { planItem, type PlanOptions } from '../src/media/plan.js';
import { problemRecord, toRecord } from '../src/output/records.js';
import { MEDIA_TYPES, type MediaItem } from '../src/types.js';
import { seedServerPages, USER } from './helpers/seed.js';
import { prng } from './helpers/random.js';

/**
 * A seeded fuzz test (issue 14): the real reference payloads and the seed pages' tweets, mutated
 * thousands of times (a field deleted, retyped, enlarged, or wrapped in retweet/quote chains up to
 * 5,000 deep). normalizeTweet, planItem, tweetFacts and toV2Tweet must never throw, and what they
 * produce must be fit for the archive (a v2 Tweet valid against X's schema, whatever the input). A failure names the seed and the mutations: rerun it with
 * FUZZ_SEED=<seed> npx vitest run test/fuzz.test.ts.
 */

const SEED = Number(process.env['FUZZ_SEED'] ?? 14_2024);
const SAMPLES = 6000;
const ALL: PlanOptions = { types: new Set(MEDIA_TYPES), includeReposts: true, allowHosts: ['pbs.twimg.com', 'video.twimg.com'] };
const MAX_ID = (1n << 64n) - 1n;
const REFERENCE = fileURLToPath(new URL('../fixtures/reference/', import.meta.url));
const ajv = new Ajv2020({ strict: true, allErrors: true });
formats.default(ajv);
const validateTweet = ajv.compile(JSON.parse(fs.readFileSync(`${REFERENCE}x-v2-tweet.schema.json`, 'utf8')) as object);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

function corpus(): { name: string; tweet: Json }[] {
  const files = ['v1', 'v1-graphql-legacy'].flatMap((dir) =>
    fs
      .readdirSync(`${REFERENCE}${dir}`)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => ({ name: `${dir}/${f}`, tweet: JSON.parse(fs.readFileSync(`${REFERENCE}${dir}/${f}`, 'utf8')) as Json })),
  );
  const pages = (seedServerPages()[USER] ?? []) as { results?: Json[]; data?: { results: Json[] } }[];
  const seed = pages.flatMap((page, p) => (page.results ?? page.data?.results ?? []).map((tweet, i) => ({ name: `seed page ${p + 1} tweet ${i + 1}`, tweet })));
  return [...files, ...seed];
}

const HUGE_VALUES: Json[] = [
  1e300, -1, -1e300, 1.5, 2 ** 64, Number.MAX_SAFE_INTEGER + 2, 0,
  'NaN', 'Infinity', '-1', '1e300', '', '9'.repeat(400), '18446744073709551616', 'x'.repeat(200_000),
  'javascript:alert(document.cookie)', 'data:image/png;base64,iVBORw0KGgo=', 'JAVASCRIPT://pbs.twimg.com/%0Aalert(1)',
  'https://pbs.twimg.com/media/\u202eFREAsbkXIAYiaVV.jpg', 'https://evil.example/media/FREAsbkXIAYiaVV.jpg', 'http://[::1', 'https://',
  '\u0000\u001b[31m\u0007', '\u202e\u2066bidi\u2069', 'Sat Apr 31 25:61:61 +9999 99999', '9999-99-99T99:99:99Z',
];
const DATE_VALUES: Json[] = [
  'Sat Apr 23 22:34:21 +0000 2022', 'Mon Jan 01 00:00:00 +0000 1900', 'Sat Apr 23 22:34:21 +0000 2300', '2022-04-23T22:34:21Z',
  '+275760-09-13T00:00:00.000Z', 'yesterday', 1650753261, 1650753261000, 8.64e12, 1e15, -8.64e12,
];
const NEST_KEYS = ['retweet_status', 'retweeted_status', 'quoted_status'];
/** Fields the archive reads: half the mutations aim at one of them. */
const READ_KEYS = new Set([
  'tweet_id', 'id_str', 'creation_date', 'created_at', 'timestamp', 'user', 'user_id', 'username', 'screen_name', 'user_id_str',
  'retweet_tweet_id', 'media_url', 'video_url', 'video_view_count', 'extended_entities', 'extended_tweet', 'media', 'type',
  'media_key', 'media_url_https', 'ext_alt_text', 'sizes', 'w', 'h', 'original_info', 'width', 'height', 'video_info',
  'duration_millis', 'variants', 'bitrate', 'content_type', 'url', 'ext_media_availability', 'status', 'viewCount', ...NEST_KEYS,
]);
const DEPTHS = [1, 2, 3, 10, 1000, 5000];

class Mutator {
  readonly steps: string[] = [];
  constructor(private readonly random: () => number) {}

  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new Error('pick from an empty list');
    return list[Math.floor(this.random() * list.length)] as T;
  }

  /** Paths to every value, shallow ones only (never walking into a chain this test built). */
  paths(root: Json): Path[] {
    const out: Path[] = [];
    const stack: { value: Json; path: Path }[] = [{ value: root, path: [] }];
    while (stack.length > 0 && out.length < 3000) {
      const { value, path } = stack.pop() ?? { value: null, path: [] };
      out.push(path);
      if (path.length >= 12 || value === null || typeof value !== 'object') continue;
      const entries: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
      for (const [key, child] of entries) stack.push({ value: child, path: [...path, key] });
    }
    return out;
  }

  /** One mutation of `root` (in place where it can be); returns the new root. */
  mutate(root: Json): Json {
    const paths = this.paths(root);
    const read = paths.filter((p) => READ_KEYS.has(String(p[p.length - 1])));
    const path = this.pick(read.length > 0 && this.random() < 0.5 ? read : paths);
    const op = this.pick(['delete', 'retype', 'enlarge', 'deepen', 'redate'] as const);
    if (op === 'redate' && root !== null && typeof root === 'object' && !Array.isArray(root)) {
      // Each date field (text, timestamp) absent or any value: the dating falls through them in turn.
      for (const key of ['creation_date', 'created_at', 'timestamp']) {
        const value = this.pick([undefined, undefined, ...DATE_VALUES, ...HUGE_VALUES]);
        if (value === undefined) delete root[key];
        else root[key] = value;
        this.steps.push(`redate ${key} = ${JSON.stringify(value)?.slice(0, 40) ?? '(none)'}`);
      }
      return root;
    }
    const current = get(root, path);
    let next: Json | undefined;
    if (op === 'delete') next = undefined;
    else if (op === 'retype') next = this.retype(current);
    else if (op === 'enlarge') next = this.pick(HUGE_VALUES);
    else next = this.chain(current);
    this.steps.push(`${op} ${path.join('.') || '(root)'}${op === 'enlarge' ? ` = ${JSON.stringify(next).slice(0, 40)}` : ''}`);
    if (path.length === 0) return next ?? {};
    set(root, path, next);
    return root;
  }

  private retype(value: Json): Json {
    // Never JSON.stringify a value here: it may hold a chain 5,000 deep.
    const text = value !== null && typeof value === 'object' ? 'object' : String(value).slice(0, 100);
    const options: Json[] = [text, Number(text) || 7, null, [value], { value }, true, {}, []];
    return this.pick(options.filter((o) => typeof o !== typeof value || Array.isArray(o) !== Array.isArray(value)));
  }

  private chain(inner: Json): Json {
    const depth = this.pick(DEPTHS);
    const key = this.pick(NEST_KEYS);
    let value = inner;
    for (let level = 0; level < depth; level++) value = { tweet_id: String(1_500_000_000_000_000_000n + BigInt(level)), [key]: value };
    this.steps.push(`(${depth} deep under ${key})`);
    return value;
  }
}

function get(root: Json, path: Path): Json {
  let value: Json | undefined = root;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<string | number, Json>)[key] : undefined;
  return value ?? null;
}

function set(root: Json, path: Path, value: Json | undefined): void {
  const parent = get(root, path.slice(0, -1));
  const key = path[path.length - 1];
  if (parent === null || typeof parent !== 'object' || key === undefined) return;
  if (Array.isArray(parent) && typeof key === 'number') {
    if (value === undefined) parent.splice(key, 1);
    else parent[key] = value;
  } else if (!Array.isArray(parent)) {
    if (value === undefined) delete parent[String(key)];
    else parent[String(key)] = value;
  }
}

function expectHttpUrl(url: unknown, where: string): void {
  if (typeof url !== 'string') throw new Error(`${where}: not a string: ${JSON.stringify(url)}`);
  const protocol = new URL(url).protocol;
  if (protocol !== 'http:' && protocol !== 'https:') throw new Error(`${where}: ${protocol} URL ${url.slice(0, 80)}`);
}

/** The property: nothing throws, and every item and record is fit for the archive. */
function check(raw: unknown, tally: { items: number; problems: number; downloads: number; tweets: number }): void {
  const tweet = toV2Tweet(raw);
  if (tweet !== undefined) {
    if (!validateTweet(tweet)) throw new Error(`toV2Tweet: not a v2 Tweet: ${ajv.errorsText(validateTweet.errors).slice(0, 300)}`);
    JSON.parse(JSON.stringify(tweet));
    tally.tweets += 1;
  }
  const facts = tweetFacts(raw);
  if (facts.id !== undefined && (facts.id < 0n || facts.id > MAX_ID)) throw new Error(`tweetFacts id ${facts.id}`);
  if (facts.time !== undefined && !Number.isFinite(facts.time)) throw new Error(`tweetFacts time ${facts.time}`);
  const { items, problems } = normalizeTweet(raw);
  for (const item of items) checkItem(item, tally);
  for (const problem of problems) {
    if (typeof problem.reason !== 'string' || problem.reason === '') throw new Error('a problem without a reason');
    JSON.stringify(problemRecord(problem));
  }
  tally.items += items.length;
  tally.problems += problems.length;
}

function checkItem(item: MediaItem, tally: { downloads: number }): void {
  const { media } = item;
  if (!/^\d+_\d+$/.test(media.media_key)) throw new Error(`media_key ${media.media_key.slice(0, 80)}`);
  if (!MEDIA_TYPES.includes(media.type)) throw new Error(`type ${String(media.type)}`);
  if (media.url !== undefined) expectHttpUrl(media.url, 'url');
  if (media.preview_image_url !== undefined) expectHttpUrl(media.preview_image_url, 'preview_image_url');
  media.variants?.forEach((v, i) => expectHttpUrl(v.url, `variants.${i}.url`));
  JSON.parse(JSON.stringify(toRecord(item, 'planned')));
  const plan = planItem(item, ALL);
  if (plan.kind === 'download') {
    tally.downloads += 1;
    plan.sources.forEach((s, i) => expectHttpUrl(s.url, `plan source ${i}`));
  } else if (typeof plan.reason !== 'string') throw new Error('a skip without a reason');
}

describe('fuzz: normalizeTweet, planItem, tweetFacts and toV2Tweet on mutated real payloads', () => {
  it(`never throw, and keep every record fit for the archive (seed ${SEED}, ${SAMPLES} samples)`, () => {
    const random = prng(SEED);
    const bases = corpus();
    expect(bases).toHaveLength(34);
    const tally = { mutations: 0, deep: 0, items: 0, problems: 0, downloads: 0, tweets: 0 };
    for (let sample = 0; sample < SAMPLES; sample++) {
      const mutator = new Mutator(random);
      const base = mutator.pick(bases);
      let tweet = structuredClone(base.tweet);
      const count = 1 + Math.floor(random() * 3);
      for (let m = 0; m < count; m++) tweet = mutator.mutate(tweet);
      tally.mutations += count;
      if (mutator.steps.some((s) => s.startsWith('(5000'))) tally.deep += 1;
      try {
        check(tweet, tally);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`FUZZ_SEED=${SEED} sample ${sample}, ${base.name}: ${mutator.steps.join(' → ')}: ${message}`);
      }
    }
    // The run really met what it claims: thousands of mutations, the deepest chains, and
    // tweets that still gave media as well as ones that gave problems.
    expect(tally.mutations).toBeGreaterThanOrEqual(5000);
    expect(tally.deep).toBeGreaterThan(0);
    expect(tally.items).toBeGreaterThan(1000);
    expect(tally.problems).toBeGreaterThan(1000);
    expect(tally.downloads).toBeGreaterThan(1000);
    expect(tally.tweets).toBeGreaterThan(1000);
  });
});
