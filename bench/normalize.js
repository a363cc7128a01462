// @ts-check
/**
 * Normalize and plan 100k tweets built from the real reference payloads and the seed fixtures,
 * with ids varied so no two share a media_key. Times the built code (dist/), so build first:
 *   npm run build && node bench/normalize.js [count]
 */
import fs from 'node:fs';

// The built modules, typed from their sources (a static import would pull dist/ into the typecheck).
/** @type {typeof import('../src/media/normalize.js')} */
const { normalizeTweet } = await import(new URL('../dist/media/normalize.js', import.meta.url).href);
/** @type {typeof import('../src/media/plan.js')} */
const { planItem } = await import(new URL('../dist/media/plan.js', import.meta.url).href);

const COUNT = Number(process.argv[2] ?? 100_000);
const RUNS = 3;
const root = new URL('../', import.meta.url);
const reference = new URL('fixtures/reference/', root);

/** @param {URL} dir */
const jsonFiles = (dir) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(new URL(f, dir), 'utf8')));

const templates = [
  ...jsonFiles(new URL('v1/', reference)),
  ...jsonFiles(new URL('v1-graphql-legacy/', reference)),
  ...jsonFiles(new URL('fixtures/api/96479162/', root)).flatMap((page) => page.results ?? page.data.results),
];

/**
 * Shift every id (tweet, media, media_key) by `offset`, keeping them decimal strings.
 * @param {unknown} value
 * @param {bigint} offset
 */
function varyIds(value, offset) {
  if (Array.isArray(value)) for (const v of value) varyIds(v, offset);
  if (typeof value !== 'object' || value === null) return;
  const record = /** @type {Record<string, unknown>} */ (value);
  for (const key of ['id_str', 'tweet_id']) {
    const id = record[key];
    if (typeof id === 'string' && /^\d+$/.test(id)) record[key] = String(BigInt(id) + offset);
  }
  const mediaKey = record['media_key'];
  if (typeof mediaKey === 'string') {
    const [prefix, id] = mediaKey.split('_');
    record['media_key'] = `${prefix}_${BigInt(id ?? '0') + offset}`;
  }
  for (const v of Object.values(record)) varyIds(v, offset);
}

const tweets = Array.from({ length: COUNT }, (_, i) => {
  const tweet = structuredClone(templates[i % templates.length]);
  varyIds(tweet, BigInt(Math.floor(i / templates.length)) * 1_000_000n);
  return tweet;
});

/** @type {import('../src/media/plan.js').PlanOptions} */
const options = { types: new Set(/** @type {const} */ (['photo', 'video', 'animated_gif'])), includeReposts: true, allowHosts: ['pbs.twimg.com', 'video.twimg.com'] };

function run() {
  let media = 0;
  let downloads = 0;
  const started = performance.now();
  for (const tweet of tweets) {
    const { items } = normalizeTweet(tweet);
    for (const item of items) {
      media += 1;
      if (planItem(item, options).kind === 'download') downloads += 1;
    }
  }
  return { ms: performance.now() - started, media, downloads };
}

run(); // warm-up: let the JIT settle before anything is timed
const runs = Array.from({ length: RUNS }, run);
const rates = runs.map((r) => COUNT / (r.ms / 1000)).sort((a, b) => a - b);
const median = rates[Math.floor(RUNS / 2)] ?? 0;
const first = runs[0];
console.log(
  `normalize+plan: ${COUNT} tweets (${templates.length} templates, ${first?.media} media, ${first?.downloads} to download) on node ${process.version}\n` +
    `runs: ${runs.map((r) => `${r.ms.toFixed(0)} ms`).join(', ')}\n` +
    `median of ${RUNS}: ${Math.round(median).toLocaleString('en-US')} tweets/s`,
);
