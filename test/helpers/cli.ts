import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { startReplayServer, type ReplayServer, type ReplayServerOptions } from '../../fixtures/replay-server.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO, 'bin', 'x-media-dump.js');
export const TEST_KEY = 'agnt_live_TESTKEY_5f2c9e1d7b';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Called once the child is spawned: tests use it to signal or kill it at a chosen moment. */
  onSpawn?: (child: ChildProcess) => void;
  /** Written to the child's standard input (otherwise it gets none). */
  input?: string;
}

/** Run the built CLI as a child process, the way users and cron do. No inherited API key. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, AGNTDATA_API_KEY: TEST_KEY, AGNTDATA_API_BASE: undefined, ...options.env })) {
    if (v !== undefined && !/^(VITEST|NODE_OPTIONS|HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy|FORCE_COLOR|DEBUG)$/.test(k)) env[k] = v;
  }
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  return runCommand(process.execPath, [BIN, ...args], { ...options, env });
}

/** Run any command with exactly the environment given (nothing inherited); its output as text. */
export function runCommand(command: string, args: readonly string[], options: CliOptions & { env: Record<string, string> }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? REPO, env: options.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    child.stdin?.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    options.onSpawn?.(child);
  });
}

/**
 * Call at a test file's top level: returns `serve(options)`, which starts a replay server that
 * checks the test key; every server it started is closed after each test.
 */
export function useReplayServers(): (options?: ReplayServerOptions) => Promise<ReplayServer> {
  const servers: ReplayServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async (options = {}) => {
    const server = await startReplayServer({ apiKey: TEST_KEY, ...options });
    servers.push(server);
    return server;
  };
}

/**
 * The flags of an archive run of the seed user against a replay server, by preset: `strict`
 * fails at the first transient error, `retrying` retries twice; both NDJSON, 5 s timeouts.
 */
export const PRESETS = {
  strict: ['--retries', '0', '--timeout', '5', '--json'],
  retrying: ['--retries', '2', '--timeout', '5', '--json'],
} as const;

export interface ArchiveRunOptions extends CliOptions {
  preset?: keyof typeof PRESETS;
  user?: string;
}

/** The one way tests run the main job: `--user <seed> --out <out>`, the server's args, a preset, then `extra`. */
export function archiveRun(server: { apiBase: string; host: string }, out: string, extra: readonly string[] = [], options: ArchiveRunOptions = {}): Promise<CliResult> {
  const { preset = 'strict', user = '96479162', ...cli } = options;
  return runCli(['--user', user, '--out', out, ...serverArgs(server), ...PRESETS[preset], ...extra], cli);
}

/** The server args every archive run against the replay server needs. */
export function serverArgs(server: { apiBase: string; host: string }): string[] {
  return ['--api-base', server.apiBase, '--allow-host', server.host];
}

export function tempDir(prefix = 'xmd-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Parsed NDJSON lines; fails loudly on any line that is not JSON. */
export function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Every regular file under `dir` (relative paths, sorted), state folder included. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** The files a run saved under `dir` (relative paths, sorted): all but the state folder's. */
export function mediaFiles(dir: string): string[] {
  return listFiles(dir).filter((f) => !f.startsWith('.x-media-dump/'));
}
