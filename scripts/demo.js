// @ts-check
/**
 * `npm run demo [-- extra flags]`: runs the real CLI against the replay server (fixtures/), so the
 * whole pipeline can be watched with no network and no agntdata key. Files land in ./demo-media
 * (relative to the current directory); extra arguments are passed to the CLI (e.g. `-- --json`).
 * It builds dist/ first when src/ is newer. Only the CLI writes to stdout, so
 * `npm run demo -- --json | jq` reads records alone (npm's own banner goes to stderr: `json=true`
 * in the repository's .npmrc).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReplayServer } from '../fixtures/replay-server.js';

const DEMO_KEY = 'demo-key-not-secret';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(repoRoot, 'bin', 'x-media-dump.js');

if (!fs.existsSync(bin)) {
  process.stderr.write(`demo: ${path.relative(process.cwd(), bin) || bin} not found\n`);
  process.exit(2);
}

/** @param {string} dir */
const newest = (dir) =>
  Math.max(0, ...fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => fs.statSync(path.join(e.parentPath, e.name)).mtimeMs));
const built = path.join(repoRoot, 'dist', 'cli.js');
if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newest(path.join(repoRoot, 'src'))) {
  process.stderr.write('demo: building dist/ first (npm run build)\n');
  // Its output goes to stderr: stdout is for the CLI's records.
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: ['ignore', 2, 2], shell: process.platform === 'win32' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const server = await startReplayServer({ apiKey: DEMO_KEY });
process.stderr.write(`demo: replaying agntdata + CDN on ${server.origin} (no network, no key)\n`);

const args = [
  bin,
  '--user',
  '96479162',
  '--out',
  './demo-media',
  '--api-base',
  server.apiBase,
  '--allow-host',
  server.host,
  ...process.argv.slice(2),
];
const child = spawn(process.execPath, args, {
  stdio: 'inherit',
  env: { ...process.env, AGNTDATA_API_KEY: DEMO_KEY, AGNTDATA_API_BASE: server.apiBase },
});

// Forward SIGINT/SIGTERM. A Ctrl-C on a terminal reaches the child directly too (same process
// group), and npm forwards it to us as well: pass each signal on at most once per second so the
// CLI sees one interruption, not a burst.
/** @type {Map<NodeJS.Signals, number>} */
const lastForwarded = new Map();
/** @param {NodeJS.Signals} signal */
const forward = (signal) => {
  const now = Date.now();
  if (now - (lastForwarded.get(signal) ?? 0) < 1000) return;
  lastForwarded.set(signal, now);
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
process.on('SIGINT', forward);
process.on('SIGTERM', forward);

/** @type {number} */
const code = await new Promise((resolve) => {
  child.once('error', (err) => {
    process.stderr.write(`demo: could not start the CLI: ${err.message}\n`);
    resolve(1);
  });
  child.once('exit', (exitCode, signal) => {
    if (exitCode !== null) resolve(exitCode);
    else resolve(128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
  });
});

await server.close();
process.exit(code);
