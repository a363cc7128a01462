// @ts-check
/**
 * `npm run bench:scale`: the archiver over archives of 10k, 100k and 1M media (synthetic, see
 * scale-data.js): the idle nightly rerun (wall, peak RSS, bytes written), the first open without
 * a snapshot, `export` and `verify`, and first-run throughput on small files, for this build and
 * for a baseline build (the commit before the scale work), with every issue-15 target marked PASS
 * or MISS. Writes bench/results/scale.json. Not a test: figures vary with the machine.
 *
 *   BENCH_SIZES (10000,100000,1000000)  archive sizes
 *   BENCH_RUNS (3)                      idle reruns per size, and first runs per build; medians reported
 *   BENCH_DIR (<tmp>/xmd-scale)         where archives are made (and reused between runs)
 *   BENCH_BASELINE (aeb2123)            commit to compare with; empty to skip
 *   BENCH_FILES (20000)                 files in the first-run throughput test
 *   BENCH_VERIFY_MAX (1000000)          largest archive `verify` is run on
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, median } from './measure.js';
import { makeArchive, startScaleApi, startThroughputServers, USER } from './scale-data.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = (/** @type {string} */ name, /** @type {string} */ fallback) => process.env[name] ?? fallback;
const SIZES = env('BENCH_SIZES', '10000,100000,1000000').split(',').map(Number);
const RUNS = Number(env('BENCH_RUNS', '3'));
const DIR = env('BENCH_DIR', path.join(os.tmpdir(), 'xmd-scale'));
const BASELINE = env('BENCH_BASELINE', 'aeb2123');
const FILES = Number(env('BENCH_FILES', '20000'));
const VERIFY_MAX = Number(env('BENCH_VERIFY_MAX', '1000000'));
const KEY = 'agnt_live_BENCH_scale';

/** @typedef {{ wallS: number, rssMb: number, code: number | null, note?: string }} Figure */

/** The baseline's CLI, built in a worktree beside this one (node_modules shared). */
function baselineBin() {
  if (!BASELINE) return undefined;
  const tree = path.join(DIR, `baseline-${BASELINE}`);
  if (!fs.existsSync(path.join(tree, 'dist', 'cli.js'))) {
    fs.rmSync(tree, { recursive: true, force: true });
    execFileSync('git', ['-C', REPO, 'worktree', 'add', '--detach', '--force', tree, BASELINE], { stdio: 'ignore' });
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(tree, 'node_modules'));
    execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(tree, 'tsconfig.build.json')], { stdio: 'inherit' });
  }
  return path.join(tree, 'bin', 'x-media-dump.js');
}

/** The archive of `n` media, made once and kept in BENCH_DIR; `format` 1 for the baseline. */
function archiveOf(/** @type {number} */ n, /** @type {1 | 2} */ format) {
  const files = path.join(DIR, `files-${n}`);
  if (!fs.existsSync(path.join(files, 'done'))) {
    fs.rmSync(files, { recursive: true, force: true });
    const started = Date.now();
    makeArchive(files, n);
    fs.writeFileSync(path.join(files, 'done'), '');
    process.stderr.write(`made a ${n}-media archive in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  // Each measured build gets a fresh journal (the baseline rewrites its own) over the same files.
  const out = path.join(DIR, `out-${n}-v${format}`);
  fs.rmSync(out, { recursive: true, force: true });
  makeArchive(out, n, { format, files: false });
  fs.symlinkSync(path.join(files, 's'), path.join(out, 's'));
  return out;
}

/** @param {string} bin @param {string[]} args @param {{ discardStdout?: boolean }} [options] @returns {Promise<Figure>} */
async function run(bin, args, options = {}) {
  const m = await measure(process.execPath, [bin, ...args], { env: { ...process.env, AGNTDATA_API_KEY: KEY }, ...options });
  const note = m.code === 0 ? undefined : m.stderr.trim().split('\n').pop();
  return { wallS: m.wallMs / 1000, rssMb: m.peakRssMb ?? Number.NaN, code: m.code, ...(note ? { note } : {}) };
}

/** @param {Figure[]} figures @returns {Figure} */
function medianOf(figures) {
  const failed = figures.find((f) => f.code !== 0);
  return failed ?? { wallS: median(figures.map((f) => f.wallS)), rssMb: median(figures.map((f) => f.rssMb)), code: 0 };
}

/** Everything measured on archives of `n` media with one build. */
async function sizeFigures(/** @type {string} */ bin, /** @type {number} */ n, /** @type {1 | 2} */ format, /** @type {{ apiBase: string, host: string }} */ api) {
  const out = archiveOf(n, format);
  const archiveArgs = ['--user', USER, '--out', out, '--api-base', api.apiBase, '--allow-host', api.host, '--quiet'];
  const firstOpen = await run(bin, archiveArgs);
  const journal = path.join(out, '.x-media-dump', 'journal.jsonl');
  const idle = [];
  const written = [];
  for (let i = 0; i < RUNS; i++) {
    const before = fs.existsSync(journal) ? fs.statSync(journal) : undefined;
    idle.push(await run(bin, archiveArgs));
    const after = fs.statSync(journal);
    // Bytes an idle run wrote to the journal: all of it when the file was rewritten.
    written.push(before && before.ino === after.ino ? after.size - before.size : after.size);
  }
  // What the archive's state takes on disk after the idle runs (verify may compact it).
  const snapshot = path.join(out, '.x-media-dump', 'index.bin');
  const onDisk = { journal: fs.statSync(journal).size, snapshot: fs.existsSync(snapshot) ? fs.statSync(snapshot).size : 0 };
  const exported = await run(bin, ['export', '--out', out], { discardStdout: true });
  const verified = n <= VERIFY_MAX ? await run(bin, ['verify', '--out', out, '--concurrency', '8', '--quiet']) : undefined;
  return { n, firstOpen, idle: medianOf(idle), idleWrittenBytes: median(written), onDisk, exported, verified };
}

async function throughput(/** @type {string} */ bin) {
  const jpeg = fs.readFileSync(path.join(REPO, 'fixtures', 'media', 'pbs.twimg.com', 'media', 'E3MrPovWYAI64-i.jpg'));
  const servers = await startThroughputServers(FILES, jpeg);
  const out = fs.mkdtempSync(path.join(DIR, 'first-run-'));
  try {
    const figure = await run(bin, ['--user', USER, '--out', out, '--api-base', servers.apiBase, '--allow-host', servers.cdnHost, '--page-size', '100', '--concurrency', '32', '--quiet']);
    return { ...figure, filesPerSecond: FILES / figure.wallS };
  } finally {
    await servers.close();
    fs.rmSync(out, { recursive: true, force: true });
  }
}

const fmt = (/** @type {Figure | undefined} */ f, /** @type {'wallS' | 'rssMb'} */ key) =>
  f === undefined ? '—' : f.code !== 0 ? `fails (exit ${f.code})` : key === 'wallS' ? `${f.wallS.toFixed(2)} s` : `${f.rssMb.toFixed(0)} MB`;
const mb = (/** @type {number} */ bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const verdict = (/** @type {boolean} */ ok) => (ok ? 'PASS' : 'MISS');

async function main() {
  fs.mkdirSync(DIR, { recursive: true });
  const api = await startScaleApi();
  const builds = [{ name: 'new', bin: path.join(REPO, 'bin', 'x-media-dump.js'), format: /** @type {1 | 2} */ (2) }];
  const base = baselineBin();
  if (base) builds.push({ name: `baseline ${BASELINE}`, bin: base, format: 1 });
  /** @type {Record<string, Awaited<ReturnType<typeof sizeFigures>>[]>} */
  const results = {};
  /** @type {Record<string, Awaited<ReturnType<typeof throughput>>>} */
  const firstRuns = {};
  try {
    for (const build of builds) {
      results[build.name] = [];
      for (const n of SIZES) {
        process.stderr.write(`${build.name}: ${n} media…\n`);
        results[build.name]?.push(await sizeFigures(build.bin, n, build.format, api));
      }
    }
  } finally {
    await api.close();
  }
  // Throughput runs alternate between the builds, so a noisy minute on a shared machine falls
  // on both; the median of RUNS is reported.
  /** @type {Record<string, Awaited<ReturnType<typeof throughput>>[]>} */
  const throughputs = {};
  for (let i = 0; i < RUNS; i++) for (const build of builds) (throughputs[build.name] ??= []).push(await throughput(build.bin));
  for (const [name, runs] of Object.entries(throughputs)) {
    const failed = runs.find((f) => f.code !== 0);
    const wallS = median(runs.map((f) => f.wallS));
    firstRuns[name] = failed ?? { wallS, rssMb: median(runs.map((f) => f.rssMb)), code: 0, filesPerSecond: FILES / wallS };
  }
  report(results, firstRuns);
  fs.mkdirSync(path.join(REPO, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(path.join(REPO, 'bench', 'results', 'scale.json'), `${JSON.stringify({ date: new Date().toISOString(), load: os.loadavg(), results, firstRuns }, null, 2)}\n`);
}

/**
 * @param {Record<string, Awaited<ReturnType<typeof sizeFigures>>[]>} results
 * @param {Record<string, Awaited<ReturnType<typeof throughput>>>} firstRuns
 */
function report(results, firstRuns) {
  const lines = ['| build | archived media | idle rerun | idle peak RSS | idle run writes | journal (+ snapshot) on disk | first open (no snapshot) | export | export RSS | verify | verify RSS |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const [name, sizes] of Object.entries(results)) {
    for (const s of sizes) {
      lines.push(`| ${name} | ${s.n.toLocaleString('en')} | ${fmt(s.idle, 'wallS')} | ${fmt(s.idle, 'rssMb')} | ${s.idleWrittenBytes.toLocaleString('en')} B | ${mb(s.onDisk.journal)}${s.onDisk.snapshot > 0 ? ` (+ ${mb(s.onDisk.snapshot)})` : ''} | ${fmt(s.firstOpen, 'wallS')} | ${fmt(s.exported, 'wallS')} | ${fmt(s.exported, 'rssMb')} | ${fmt(s.verified, 'wallS')} | ${fmt(s.verified, 'rssMb')} |`);
    }
  }
  for (const [name, f] of Object.entries(firstRuns)) lines.push(`\nfirst run (median of ${RUNS}), ${FILES} small files at --concurrency 32, ${name}: ${f.code === 0 ? `${f.filesPerSecond.toFixed(0)} files/s (${f.wallS.toFixed(2)} s, ${f.rssMb.toFixed(0)} MB)` : `fails: ${f.note ?? ''}`}`);
  const ours = results['new'] ?? [];
  const small = ours.find((s) => s.n === Math.min(...SIZES));
  const big = ours.find((s) => s.n === Math.max(...SIZES));
  if (small && big && big.n > small.n) {
    const perMedia = ((big.idle.rssMb - small.idle.rssMb) * 1e6) / (big.n - small.n);
    const growth = big.idle.wallS / small.idle.wallS;
    lines.push('', `growth ${small.n.toLocaleString('en')} → ${big.n.toLocaleString('en')}: idle wall ×${growth.toFixed(2)}, peak RSS +${perMedia.toFixed(0)} B per media`);
    lines.push(`${verdict(big.idle.code === 0 && big.idle.wallS <= 3)}  idle rerun at ${big.n.toLocaleString('en')} ≤ 3 s: ${fmt(big.idle, 'wallS')}`);
    lines.push(`${verdict(big.idle.code === 0 && big.idle.rssMb <= 200)}  idle peak RSS at ${big.n.toLocaleString('en')} ≤ 200 MB: ${fmt(big.idle, 'rssMb')}`);
    lines.push(`${verdict(perMedia <= 150)}  peak RSS growth ≤ 150 B per media: ${perMedia.toFixed(0)} B`);
    lines.push(`${verdict(growth <= 3)}  idle wall growth ≤ 3×: ×${growth.toFixed(2)}`);
    lines.push(`${verdict(ours.every((s) => s.idleWrittenBytes < 4096))}  an idle run writes O(1) bytes: ${ours.map((s) => `${s.idleWrittenBytes} B`).join(', ')}`);
    lines.push(`${verdict(big.exported.code === 0 && big.exported.rssMb <= 150)}  export at ${big.n.toLocaleString('en')} ≤ 150 MB: ${fmt(big.exported, 'rssMb')}`);
    if (big.verified) lines.push(`${verdict(big.verified.code === 0 && big.verified.rssMb <= 150)}  verify at ${big.n.toLocaleString('en')} ≤ 150 MB: ${fmt(big.verified, 'rssMb')}`);
  }
  const first = firstRuns['new'];
  if (first) lines.push(`${verdict(first.code === 0 && first.filesPerSecond >= 2000)}  first run ≥ 2,000 small files/s at --concurrency 32: ${first.filesPerSecond.toFixed(0)} files/s`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
