// @ts-check
/**
 * Running a child and measuring it: wall time from spawn to exit (ours, with performance.now),
 * and its CPU (user + sys) and peak RSS from the kernel's rusage via /usr/bin/time; where that
 * is missing, by polling /proc/<pid>/stat and /proc/<pid>/status (VmHWM) instead.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export const TIME_BIN = '/usr/bin/time';
export const hasTimeBin = fs.existsSync(TIME_BIN);

/**
 * @typedef {object} Measured
 * @property {number | null} code
 * @property {string} stdout
 * @property {string} stderr
 * @property {number} spawnedAt `performance.now()` at spawn.
 * @property {number} wallMs Spawn to exit.
 * @property {number | undefined} cpuSec User + sys seconds of the child (and its children).
 * @property {number | undefined} userSec
 * @property {number | undefined} sysSec
 * @property {number | undefined} peakRssMb Peak resident set, MB (10^6 bytes).
 */

/** The environment children get: no proxy (everything is on 127.0.0.1), no inherited Node flags. */
export function cleanEnv(/** @type {Record<string, string>} */ extra = {}) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(https?_proxy|all_proxy|no_proxy|node_options|debug|force_color)$/i.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Runs `command args…` and measures it.
 * @param {string} command
 * @param {readonly string[]} args
 * @param {{ env?: Record<string, string>, cwd?: string, onSpawn?: (at: number) => void, rusage?: boolean, discardStdout?: boolean }} [options]
 *   `rusage: false` spawns the command directly (for start-up timing, where /usr/bin/time's own
 *   fork and exec would be part of what is measured).
 * @returns {Promise<Measured>}
 */
export function measure(command, args, options = {}) {
  const wrap = options.rusage !== false && hasTimeBin;
  const timeFile = wrap ? path.join(os.tmpdir(), `xmd-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`) : '';
  const argv = wrap ? ['-f', '%e %U %S %M', '-o', timeFile, command, ...args] : [...args];
  return new Promise((resolve, reject) => {
    const spawnedAt = performance.now();
    const child = spawn(wrap ? TIME_BIN : command, argv, {
      env: options.env ?? cleanEnv(),
      cwd: options.cwd,
      // A million NDJSON records are not worth holding in the benchmark's own memory.
      stdio: ['ignore', options.discardStdout ? 'ignore' : 'pipe', 'pipe'],
    });
    options.onSpawn?.(spawnedAt);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d) => (stderr += d));
    const poll = !wrap && options.rusage !== false && child.pid !== undefined ? pollProc(child.pid) : undefined;
    child.on('error', reject);
    child.on('exit', () => poll?.stop());
    child.on('close', (code) => {
      const wallMs = performance.now() - spawnedAt;
      let cpuSec = poll?.cpuSec();
      /** @type {number | undefined} */
      let userSec;
      /** @type {number | undefined} */
      let sysSec;
      let peakRssMb = poll?.peakRssMb();
      if (wrap) {
        const text = fs.readFileSync(timeFile, 'utf8');
        fs.rmSync(timeFile, { force: true });
        // A child that failed gets "Command exited with non-zero status N" before the figures.
        const m = /([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(text);
        if (m) {
          userSec = Number(m[2]);
          sysSec = Number(m[3]);
          cpuSec = userSec + sysSec;
          peakRssMb = (Number(m[4]) * 1024) / 1e6;
        }
      }
      resolve({ code, stdout, stderr, spawnedAt, wallMs, cpuSec, userSec, sysSec, peakRssMb });
    });
  });
}

/** Samples a running process's CPU and high-water RSS every 20 ms; keeps the last good sample. */
function pollProc(/** @type {number} */ pid) {
  const ticks = 100; // USER_HZ on Linux
  let cpu = 0;
  let hwmKb = 0;
  const sample = () => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / ticks;
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
    } catch {
      // gone between samples: keep what we had
    }
  };
  sample();
  const timer = setInterval(sample, 20);
  return {
    stop: () => clearInterval(timer),
    cpuSec: () => cpu,
    peakRssMb: () => (hwmKb * 1024) / 1e6,
  };
}

/** @param {readonly number[]} values */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Is `command` on PATH (or an existing path)? */
export function which(/** @type {string} */ command) {
  if (command.includes('/')) return fs.existsSync(command) ? command : undefined;
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const full = path.join(dir, command);
    try {
      fs.accessSync(full, fs.constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return undefined;
}
