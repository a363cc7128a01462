// @ts-check
/**
 * `npm run bench`: the built CLI against a local CDN shaped like X's (latency before headers,
 * a bandwidth cap per connection) behind a fake agntdata API, next to curl and aria2c fetching
 * the same files, and the ideal schedule. Prints a table, writes bench/results/latest.json,
 * and says PASS or MISS for each target. Medians of BENCH_RUNS runs (default 3).
 *
 * Environment overrides (for a quick run, e.g. `BENCH_RUNS=1 BENCH_FILES=60 BENCH_BIG_MB=200`):
 *   BENCH_RUNS (3)            runs of each timed measurement; the median is reported
 *   BENCH_FILES (300)         media files in the archive
 *   BENCH_LATENCY_MS (40)     CDN latency before headers
 *   BENCH_CAP_MBPS (8)        CDN bandwidth per connection, MB/s (10^6 bytes)
 *   BENCH_API_MS (150)        API latency per response
 *   BENCH_BIG_MB (1000)       size of the one big video for the memory test, MB
 *   BENCH_BIG_CAP_MBPS (0)    bandwidth cap for the big video; 0 = none (the harder case for memory)
 *   BENCH_HISTORY (1000)      tweets in the history for the cost test
 *   BENCH_STARTUP_RUNS (20)   runs of `--version` and of `node -e 0`
 *   BENCH_ONLY                comma list of sections: startup,archive,big,cost (default all)
 *   BENCH_TOOLS               comma list of ours,curl,aria2c (default all that are installed)
 *   BENCH_BIN                 the CLI to run (default bin/x-media-dump.js of this checkout)
 *   BENCH_DIR                 scratch folder for downloads (default a new one under the OS temp dir)
 *   BENCH_NODE_ARGS           extra node flags for our CLI only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
 *
 * The machine should be otherwise idle: on 2 cores, anything else running shows up in every
 * figure. The load average at the start of each section is recorded next to the results.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectedSha256, idealSeconds, inOrderSeconds, makeDataSet } from './data.js';
import { cleanEnv, hasTimeBin, measure, median, which } from './measure.js';
import { startApi, startCdn } from './servers.js';

/** @typedef {import('./data.js').DataSet} DataSet */
/** @typedef {import('./data.js').MediaFile} MediaFile */
/** @typedef {import('./measure.js').Measured} Measured */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(REPO, 'bench', 'results', 'latest.json');
const API_KEY = 'agnt_live_BENCH_not_a_secret';
const MB = 1e6;
const GB = 1e9;

/** @param {string} name @param {number} fallback */
function numberEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}=${raw} is not a non-negative number`);
  return value;
}

/** @param {string} name @param {readonly string[]} all */
function listEnv(name, all) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...all];
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of list) if (!all.includes(item)) throw new Error(`${name}: unknown "${item}"; use ${all.join(',')}`);
  return list;
}

const config = {
  runs: Math.max(1, Math.round(numberEnv('BENCH_RUNS', 3))),
  files: Math.max(1, Math.round(numberEnv('BENCH_FILES', 300))),
  latencyMs: numberEnv('BENCH_LATENCY_MS', 40),
  capBytesPerSec: numberEnv('BENCH_CAP_MBPS', 8) * MB,
  apiLatencyMs: numberEnv('BENCH_API_MS', 150),
  bigBytes: Math.round(numberEnv('BENCH_BIG_MB', 1000) * MB),
  bigCapBytesPerSec: numberEnv('BENCH_BIG_CAP_MBPS', 0) * MB || Number.POSITIVE_INFINITY,
  history: Math.max(1, Math.round(numberEnv('BENCH_HISTORY', 1000))),
  startupRuns: Math.max(1, Math.round(numberEnv('BENCH_STARTUP_RUNS', 20))),
  concurrency: 8,
  pageSize: 20,
  sections: listEnv('BENCH_ONLY', ['startup', 'archive', 'big', 'cost']),
  tools: listEnv('BENCH_TOOLS', ['ours', 'curl', 'aria2c']),
  bin: path.resolve(process.env['BENCH_BIN'] ?? path.join(REPO, 'bin', 'x-media-dump.js')),
  nodeArgs: (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean),
};

const curlBin = which('curl');
const opensslBin = which('openssl');
const aria2Bin = which('aria2c');
const workDir = process.env['BENCH_DIR'] ? path.resolve(process.env['BENCH_DIR']) : fs.mkdtempSync(path.join(os.tmpdir(), 'xmd-bench-'));
fs.mkdirSync(workDir, { recursive: true });

const log = (/** @type {string} */ line) => process.stderr.write(`bench: ${line}\n`);
const round = (/** @type {number} */ x, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

if (!fs.existsSync(config.bin)) {
  log(`${config.bin} not found; run \`npm run bench\` (it builds first)`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Servers and data

const cdn = await startCdn({ latencyMs: config.latencyMs, capBytesPerSec: config.capBytesPerSec });
const api = await startApi({ apiKey: API_KEY, latencyMs: config.apiLatencyMs });

const archiveSet = makeDataSet({ userId: '1700000000000000001', username: 'bench_archive', seed: 20240601, firstIndex: 0, mediaCount: config.files }, cdn.origin);
const bigSet = makeDataSet({ userId: '1700000000000000002', username: 'bench_big', seed: 7, firstIndex: 100_000, fixedVideoBytes: [config.bigBytes] }, cdn.origin);
const historySet = makeDataSet(
  { userId: '1700000000000000003', username: 'bench_history', seed: 1000, firstIndex: 200_000, tweetCount: config.history, videoShare: 0, photoBytes: [2_000, 20_000] },
  cdn.origin,
);
for (const set of [archiveSet, bigSet, historySet]) {
  api.add(set);
  cdn.add(set.files);
}

/** sha256 of each archive file, computed once: every run of every tool is checked against it. */
const expected = new Map(archiveSet.files.map((f) => [f.index, expectedSha256(f.index, f.size, f.type)]));

// ---------------------------------------------------------------------------------------------
// Runners

/** @param {string} name */
function freshDir(name) {
  const dir = path.join(workDir, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Removes a run's files and lets the disk settle, so one run's writeback does not slow the next. */
function removeDir(/** @type {string} */ dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  try {
    execFileSync('sync');
  } catch {
    // no sync(1): the next run may share the disk with this one's writeback
  }
}

/**
 * Every file is on disk with the right size (and, with `hash`, the right bytes).
 * @param {string} dir @param {readonly MediaFile[]} files @param {boolean} hash
 */
function checkFiles(dir, files, hash) {
  const problems = [];
  for (const file of files) {
    const full = path.join(dir, file.fileName);
    let size = -1;
    try {
      size = fs.statSync(full).size;
    } catch {
      problems.push(`${file.fileName}: missing`);
      continue;
    }
    if (size !== file.size) problems.push(`${file.fileName}: ${size} bytes, expected ${file.size}`);
    else if (hash) {
      const sha = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
      if (sha !== expected.get(file.index)) problems.push(`${file.fileName}: sha256 differs`);
    }
  }
  if (problems.length > 0) throw new Error(`download check failed in ${dir}:\n  ${problems.slice(0, 5).join('\n  ')}${problems.length > 5 ? `\n  … ${problems.length - 5} more` : ''}`);
}

/** Our NDJSON records: one `downloaded` per file, bytes and sha256 as served. */
function checkRecords(/** @type {string} */ stdout, /** @type {readonly MediaFile[]} */ files, /** @type {(f: MediaFile) => string | undefined} */ shaOf) {
  /** @type {Map<string, { status?: string, bytes?: number, sha256?: string }>} */
  const byPath = new Map();
  for (const line of stdout.split('\n')) if (line) {
    const record = JSON.parse(line);
    byPath.set(record.path, record);
  }
  for (const file of files) {
    const record = byPath.get(file.fileName);
    if (record?.status !== 'downloaded' || record.bytes !== file.size) throw new Error(`record for ${file.fileName}: ${JSON.stringify(record)}`);
    const sha = shaOf(file);
    if (sha !== undefined && record.sha256 !== sha) throw new Error(`record for ${file.fileName}: sha256 ${record.sha256}, expected ${sha}`);
  }
}

/** @param {Measured} result @param {string} what */
function checkExit(result, what) {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\n${result.stderr.slice(-2000)}`);
}

/**
 * @param {DataSet} set
 * @param {string} out
 * @param {{ watchFirstFile?: boolean }} [options]
 */
async function runOurs(set, out, options = {}) {
  /** @type {number | undefined} */
  let firstFileAt;
  const watcher = options.watchFirstFile
    ? fs.watch(out, (_event, name) => {
        if (firstFileAt === undefined && name && !name.startsWith('.') && fs.existsSync(path.join(out, name))) firstFileAt = performance.now();
      })
    : undefined;
  const args = [...config.nodeArgs, config.bin, '--user', set.userId, '--out', out, '--concurrency', String(config.concurrency), '--api-base', api.apiBase, '--allow-host', cdn.host, '--json'];
  const result = await measure(process.execPath, args, { env: cleanEnv({ AGNTDATA_API_KEY: API_KEY }) });
  watcher?.close();
  return { ...result, firstFileMs: firstFileAt === undefined ? undefined : firstFileAt - result.spawnedAt };
}

/** @param {readonly MediaFile[]} files @param {string} out */
async function runCurl(files, out) {
  if (!curlBin) throw new Error('curl is not installed');
  const cfg = path.join(workDir, 'curl.cfg');
  fs.writeFileSync(cfg, files.map((f) => `url = "${cdn.origin}${f.requestPath}"\noutput = "${path.join(out, f.fileName)}"\n`).join(''));
  const result = await measure(curlBin, ['--parallel', '--parallel-max', String(config.concurrency), '--silent', '--show-error', '--fail', '--noproxy', '*', '--config', cfg], { env: cleanEnv() });
  fs.rmSync(cfg, { force: true });
  return result;
}

/** @param {readonly MediaFile[]} files @param {string} out */
async function runAria2(files, out) {
  if (!aria2Bin) throw new Error('aria2c is not installed');
  const list = path.join(workDir, 'aria2.txt');
  fs.writeFileSync(list, files.map((f) => `${cdn.origin}${f.requestPath}\n  out=${f.fileName}\n`).join(''));
  const args = [
    '-j', String(config.concurrency), '-i', list, '--dir', out, '--no-conf', '--quiet',
    '--file-allocation=none', '--allow-overwrite=true', '--auto-file-renaming=false', '--max-connection-per-server=1',
  ];
  const result = await measure(aria2Bin, args, { env: cleanEnv() });
  fs.rmSync(list, { force: true });
  return result;
}

// ---------------------------------------------------------------------------------------------
// Sections

/** @type {Record<string, unknown>} */
const results = {
  date: new Date().toISOString(),
  node: process.version,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', memMb: Math.round(os.totalmem() / MB) },
  config: { ...config, bigCapBytesPerSec: Number.isFinite(config.bigCapBytesPerSec) ? config.bigCapBytesPerSec : 'none', bin: path.relative(REPO, config.bin) || config.bin },
  rusage: hasTimeBin ? '/usr/bin/time' : '/proc polling',
};
/** @type {{ name: string, value: number, limit: string, pass: boolean }[]} */
const targets = [];
/** @type {[string, string, string][]} */
const rows = [];
const row = (/** @type {string} */ label, /** @type {string} */ value, note = '') => rows.push([label, value, note]);
const fmt = (/** @type {number | undefined} */ x, digits = 2) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
/** @param {string} name @param {number} value @param {string} limit @param {boolean} pass */
const target = (name, value, limit, pass) => targets.push({ name, value: round(value), limit, pass });

async function startupSection() {
  log(`start-up: ${config.startupRuns} × \`x-media-dump --version\` and \`node -e 0\``);
  /** @type {number[]} */
  const ours = [];
  /** @type {number[]} */
  const bare = [];
  let version = '';
  // Interleaved, after one warm-up each, so the file cache and CPU state are the same for both.
  for (let i = -1; i < config.startupRuns; i++) {
    const a = await measure(process.execPath, ['-e', '0'], { rusage: false });
    const b = await measure(process.execPath, [config.bin, '--version'], { rusage: false, env: cleanEnv() });
    checkExit(b, 'x-media-dump --version');
    version = b.stdout.trim();
    if (i >= 0) {
      bare.push(a.wallMs);
      ours.push(b.wallMs);
    }
  }
  const ratio = median(ours) / median(bare);
  results['startup'] = { version, oursMs: round(median(ours), 1), nodeMs: round(median(bare), 1), ratio: round(ratio), samples: { ours: ours.map((x) => round(x, 1)), node: bare.map((x) => round(x, 1)) } };
  row('start-up: x-media-dump --version', `${fmt(median(ours), 1)} ms`, `node -e 0: ${fmt(median(bare), 1)} ms → ${fmt(ratio)}×`);
  target('--version / node -e 0', ratio, '≤ 2.5', ratio <= 2.5);
}

/** @param {Record<string, Record<string, number | undefined>[]>} runs */
function hashPerGbOf(runs) {
  return median((runs['curl'] ?? []).map((r) => (r['sha256CpuS'] ?? Number.NaN) / ((r['cdnBytes'] ?? Number.NaN) / GB)));
}

async function archiveSection() {
  const sizes = archiveSet.files.map((f) => f.size);
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const shape = { connections: config.concurrency, latencyMs: config.latencyMs, capBytesPerSec: config.capBytesPerSec };
  const ideal = idealSeconds(sizes, shape);
  const inOrder = inOrderSeconds(sizes, shape);
  const photos = archiveSet.files.filter((f) => f.type === 'photo').length;
  log(`archive: ${archiveSet.files.length} files (${photos} photos, ${archiveSet.files.length - photos} videos), ${fmt(totalBytes / MB, 1)} MB in ${archiveSet.tweets.length} tweets; ideal ${fmt(ideal)} s`);
  cdn.shape.latencyMs = config.latencyMs;
  cdn.shape.capBytesPerSec = config.capBytesPerSec;
  api.shape.latencyMs = config.apiLatencyMs;

  const tools = config.tools.filter((t) => t === 'ours' || (t === 'curl' && curlBin) || (t === 'aria2c' && aria2Bin));
  /** @type {Record<string, Record<string, number | undefined>[]>} */
  const runs = Object.fromEntries(tools.map((t) => [t, []]));
  for (let run = 1; run <= config.runs; run++) {
    for (const tool of tools) {
      const out = freshDir(`archive-${tool}`);
      cdn.reset();
      api.reset();
      /** @type {Measured & { firstFileMs?: number | undefined }} */
      let result;
      if (tool === 'ours') result = await runOurs(archiveSet, out, { watchFirstFile: true });
      else if (tool === 'curl') result = await runCurl(archiveSet.files, out);
      else result = await runAria2(archiveSet.files, out);
      checkExit(result, tool);
      if (tool === 'ours') checkRecords(result.stdout, archiveSet.files, (f) => expected.get(f.index));
      checkFiles(out, archiveSet.files, true);
      // What curl would cost doing what we do: hashing every file (sha256, SHA-NI where the CPU has it).
      const hashCpu = tool === 'curl' && opensslBin ? (await measure(opensslBin, ['dgst', '-sha256', ...archiveSet.files.map((f) => path.join(out, f.fileName))])).cpuSec : undefined;
      const c = cdn.stats();
      const entry = {
        wallS: result.wallMs / 1000,
        cpuS: result.cpuSec,
        userS: result.userSec,
        sysS: result.sysSec,
        peakRssMb: result.peakRssMb,
        cdnBytes: c.bytes,
        cdnRequests: c.requests,
        cdnBusyS: c.busyMs / 1000,
        cdnMaxInFlight: c.maxInFlight,
        apiRequests: api.log.length,
        apiBusyS: api.busyMs() / 1000,
        firstFileS: result.firstFileMs === undefined ? undefined : result.firstFileMs / 1000,
        sha256CpuS: hashCpu,
      };
      runs[tool]?.push(entry);
      log(`  run ${run} ${tool}: ${fmt(entry.wallS)} s wall, ${fmt(entry.cpuS)} s cpu, ${fmt(entry.peakRssMb, 0)} MB peak${tool === 'ours' ? `, first file ${fmt(entry.firstFileS)} s, ${entry.apiRequests} API requests` : ''}`);
      removeDir(out);
    }
  }
  /** @param {string} tool @param {string} key */
  const med = (tool, key) => median((runs[tool] ?? []).map((r) => r[key]).filter((x) => typeof x === 'number'));
  const ours = med('ours', 'wallS');
  const curl = med('curl', 'wallS');
  const aria = med('aria2c', 'wallS');
  const overlap = ours / (med('ours', 'apiBusyS') + med('ours', 'cdnBusyS'));
  /** @param {string} tool */
  const cpuPerGb = (tool) => median((runs[tool] ?? []).map((r) => (r['cpuS'] ?? Number.NaN) / ((r['cdnBytes'] ?? Number.NaN) / GB)));

  results['archive'] = {
    files: archiveSet.files.length,
    photos,
    videos: archiveSet.files.length - photos,
    tweets: archiveSet.tweets.length,
    bytes: totalBytes,
    idealS: round(ideal),
    inOrderS: round(inOrder),
    tools,
    medians: Object.fromEntries(tools.map((t) => [t, { wallS: round(med(t, 'wallS')), cpuS: round(med(t, 'cpuS')), peakRssMb: round(med(t, 'peakRssMb'), 1), cpuPerGb: round(cpuPerGb(t)) }])),
    sha256CpuPerGb: round(hashPerGbOf(runs)),
    ratios: { oursIdeal: round(ours / ideal), oursCurl: round(ours / curl), oursAria2c: round(ours / aria), curlIdeal: round(curl / ideal), aria2cIdeal: round(aria / ideal) },
    overlap: {
      firstFileS: round(med('ours', 'firstFileS')),
      apiBusyS: round(med('ours', 'apiBusyS')),
      cdnBusyS: round(med('ours', 'cdnBusyS')),
      wallOverSum: round(overlap),
      definition: 'paging time = sum of the fake API response times (arrival → response finished); download time = time the CDN had at least one response in flight (latency included); first file = spawn → first media file renamed into --out (fs.watch)',
    },
    runs,
  };
  row(`archive: ${archiveSet.files.length} files, ${fmt(totalBytes / MB, 0)} MB`, `ideal ${fmt(ideal)} s`, `LPT of (${config.latencyMs} ms + size / ${fmt(config.capBytesPerSec / MB, 0)} MB/s) over ${config.concurrency}`);
  row('  same schedule, files in API order', `${fmt(inOrder)} s`, `${fmt(inOrder / ideal, 3)} × ideal: the best a client that fetches in listed order can do`);
  for (const tool of tools) {
    row(`  ${tool === 'ours' ? `x-media-dump --concurrency ${config.concurrency}` : tool === 'curl' ? `curl --parallel --parallel-max ${config.concurrency}` : `aria2c -j ${config.concurrency}`}`, `${fmt(med(tool, 'wallS'))} s`, `${fmt(med(tool, 'wallS') / ideal, 3)} × ideal`);
  }
  if (!aria2Bin) row('  aria2c -j 8', 'not installed');
  row('ours / ideal', fmt(ours / ideal, 3), '');
  if (curlBin) row('ours / curl', fmt(ours / curl, 3), '');
  row('ours / aria2c', aria2Bin ? fmt(ours / aria, 3) : 'not installed', '');
  row('overlap: time to first file on disk', `${fmt(med('ours', 'firstFileS'))} s`, '');
  row('overlap: wall / (paging + download)', fmt(overlap, 3), `paging ${fmt(med('ours', 'apiBusyS'))} s (API response time), download ${fmt(med('ours', 'cdnBusyS'))} s (CDN busy)`);
  for (const tool of tools) row(`CPU per GB (archive): ${tool}`, `${fmt(cpuPerGb(tool), 3)} s/GB`, `user+sys ${fmt(med(tool, 'cpuS'))} s, peak RSS ${fmt(med(tool, 'peakRssMb'), 0)} MB`);
  const hashPerGb = hashPerGbOf(runs);
  if (Number.isFinite(hashPerGb)) {
    row('  for reference: sha256 of the same bytes', `${fmt(hashPerGb, 3)} s/GB`, `openssl dgst -sha256; ours hashes every byte, curl does not (curl + hash: ${fmt(cpuPerGb('curl') + hashPerGb, 3)} s/GB)`);
  }

  target('ours / ideal', ours / ideal, '≤ 1.06', ours / ideal <= 1.06);
  if (curlBin && tools.includes('curl')) {
    target('ours / curl', ours / curl, '≤ 1.03', ours / curl <= 1.03);
    target('CPU per GB (archive): ours / curl', cpuPerGb('ours') / cpuPerGb('curl'), '≤ 2', cpuPerGb('ours') / cpuPerGb('curl') <= 2);
  }
}

async function bigSection() {
  const file = bigSet.files[0];
  if (file === undefined) return;
  const capped = Number.isFinite(config.bigCapBytesPerSec);
  log(`big file: one ${fmt(file.size / MB, 0)} MB video, ${capped ? `${fmt(config.bigCapBytesPerSec / MB, 0)} MB/s cap` : 'no bandwidth cap'}`);
  cdn.shape.latencyMs = config.latencyMs;
  cdn.shape.capBytesPerSec = config.bigCapBytesPerSec;
  api.shape.latencyMs = config.apiLatencyMs;
  const sha = expectedSha256(file.index, file.size, file.type);
  const tools = ['ours', ...(curlBin && config.tools.includes('curl') ? ['curl'] : [])];
  /** @type {Record<string, { wallS: number, cpuS: number | undefined, peakRssMb: number | undefined }[]>} */
  const runs = Object.fromEntries(tools.map((t) => [t, []]));
  for (let run = 1; run <= config.runs; run++) {
    for (const tool of tools) {
      const out = freshDir(`big-${tool}`);
      cdn.reset();
      const result = tool === 'ours' ? await runOurs(bigSet, out) : await runCurl(bigSet.files, out);
      checkExit(result, tool);
      if (tool === 'ours') checkRecords(result.stdout, bigSet.files, () => sha);
      checkFiles(out, bigSet.files, false);
      const entry = { wallS: result.wallMs / 1000, cpuS: result.cpuSec, peakRssMb: result.peakRssMb };
      runs[tool]?.push(entry);
      log(`  run ${run} ${tool}: ${fmt(entry.wallS)} s wall, ${fmt(entry.cpuS)} s cpu, ${fmt(entry.peakRssMb, 0)} MB peak RSS`);
      removeDir(out);
    }
  }
  /** @param {string} tool @param {'wallS' | 'cpuS' | 'peakRssMb'} key */
  const med = (tool, key) => median((runs[tool] ?? []).map((r) => r[key]).filter((x) => typeof x === 'number'));
  /** @param {string} tool */
  const perGb = (tool) => med(tool, 'cpuS') / (file.size / GB);
  results['big'] = {
    bytes: file.size,
    capBytesPerSec: capped ? config.bigCapBytesPerSec : 'none',
    medians: Object.fromEntries(tools.map((t) => [t, { wallS: round(med(t, 'wallS')), cpuS: round(med(t, 'cpuS')), peakRssMb: round(med(t, 'peakRssMb'), 1), cpuPerGb: round(perGb(t)) }])),
    runs,
  };
  const rss = med('ours', 'peakRssMb');
  row(`big file: peak RSS, ${fmt(file.size / MB, 0)} MB video`, `${fmt(rss, 1)} MB`, `${capped ? 'capped' : 'uncapped'}: ours ${fmt(file.size / MB / med('ours', 'wallS'), 0)} MB/s${tools.includes('curl') ? `, curl ${fmt(med('curl', 'peakRssMb'), 1)} MB peak at ${fmt(file.size / MB / med('curl', 'wallS'), 0)} MB/s` : ''}`);
  for (const tool of tools) row(`CPU per GB (big file): ${tool}`, `${fmt(perGb(tool), 3)} s/GB`, `user+sys ${fmt(med(tool, 'cpuS'))} s`);
  target('peak RSS on the big file (MB)', rss, '< 100', rss < 100);
  if (tools.includes('curl')) target('CPU per GB (big file): ours / curl', perGb('ours') / perGb('curl'), '≤ 2', perGb('ours') / perGb('curl') <= 2);
}

async function costSection() {
  const pages = Math.ceil(historySet.tweets.length / config.pageSize);
  log(`cost: a ${historySet.tweets.length}-tweet history (${historySet.files.length} small photos), then a rerun with nothing new`);
  // What is counted does not depend on the shape; the CDN is left unshaped to keep this quick.
  cdn.shape.latencyMs = 0;
  cdn.shape.capBytesPerSec = Number.POSITIVE_INFINITY;
  api.shape.latencyMs = config.apiLatencyMs;
  const out = freshDir('history');
  api.reset();
  const first = await runOurs(historySet, out);
  checkExit(first, 'first run');
  const firstRequests = api.log.length;
  const limits = [...new Set(api.log.map((r) => r.limit))];
  api.reset();
  cdn.reset();
  const rerun = await runOurs(historySet, out);
  checkExit(rerun, 'rerun');
  const rerunRequests = api.log.length;
  const rerunDownloads = cdn.stats().requests;
  removeDir(out);
  results['cost'] = {
    tweets: historySet.tweets.length,
    files: historySet.files.length,
    pageSize: config.pageSize,
    firstRun: { requests: firstRequests, limit: pages, limitsSent: limits, wallS: round(first.wallMs / 1000) },
    rerun: { requests: rerunRequests, limit: 1, cdnRequests: rerunDownloads, wallS: round(rerun.wallMs / 1000) },
  };
  row(`cost: ${historySet.tweets.length}-tweet history`, `${firstRequests} requests`, `limit ceil(${historySet.tweets.length}/${config.pageSize}) = ${pages}; limit sent: ${limits.join(',')}`);
  row('cost: rerun with nothing new', `${rerunRequests} request${rerunRequests === 1 ? '' : 's'}`, `limit 1; ${rerunDownloads} CDN requests`);
  target('cost: history requests', firstRequests, `= ${pages}`, firstRequests === pages);
  target('cost: rerun requests', rerunRequests, '= 1', rerunRequests === 1 && rerunDownloads === 0);
}

// ---------------------------------------------------------------------------------------------

const started = performance.now();
try {
  log(`node ${process.version}, ${os.cpus().length} CPUs; CDN ${cdn.origin} (${config.latencyMs} ms, ${fmt(config.capBytesPerSec / MB, 0)} MB/s per connection), API ${api.apiBase} (${config.apiLatencyMs} ms); curl ${curlBin ? 'ran' : 'not installed'}, aria2c ${aria2Bin ? 'ran' : 'not installed'}; rusage from ${hasTimeBin ? '/usr/bin/time' : '/proc polling'}`);
  /** @type {Record<string, number>} */
  const load = {};
  results['loadAverage1m'] = load;
  const sections = { startup: startupSection, archive: archiveSection, big: bigSection, cost: costSection };
  for (const [name, section] of Object.entries(sections)) {
    if (!config.sections.includes(name)) continue;
    load[name] = round(os.loadavg()[0] ?? 0, 2);
    if ((load[name] ?? 0) > 0.7) log(`load average ${load[name]} before ${name}: something else is using the CPU; figures will be noisy`);
    await section();
  }
} finally {
  await Promise.all([cdn.close(), api.close()]);
  if (!process.env['BENCH_DIR']) fs.rmSync(workDir, { recursive: true, force: true });
}

results['tools'] = { curl: curlBin ? 'ran' : 'not installed', aria2c: aria2Bin ? (config.tools.includes('aria2c') ? 'ran' : 'not run') : 'not installed' };
results['targets'] = targets;
results['seconds'] = round((performance.now() - started) / 1000, 1);
fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

const width = Math.max(...rows.map((r) => r[0].length));
const valueWidth = Math.max(...rows.map((r) => r[1].length));
process.stdout.write(`\nx-media-dump bench — median of ${config.runs} run${config.runs === 1 ? '' : 's'}, node ${process.version}, ${os.cpus().length} CPUs\n\n`);
for (const [label, value, note] of rows) process.stdout.write(`${label.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}\n`.replace(/\s+\n$/, '\n'));
process.stdout.write('\ntargets\n');
const nameWidth = Math.max(...targets.map((t) => t.name.length));
for (const t of targets) process.stdout.write(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.name.padEnd(nameWidth)}  ${String(t.value).padStart(8)}  ${t.limit}\n`);
process.stdout.write(`\n${targets.filter((t) => t.pass).length}/${targets.length} targets met; ${path.relative(process.cwd(), RESULTS) || RESULTS} written (${fmt((performance.now() - started) / 1000, 0)} s)\n`);
