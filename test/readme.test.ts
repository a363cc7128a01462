import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, mediaFiles, REPO, runCommand, tempDir, TEST_KEY, useReplayServers, type CliResult } from './helpers/cli.js';
import { readmeBlocks, type FencedBlock } from './helpers/readme.js';
import { ALL, FILES } from './helpers/seed.js';

/**
 * Every recipe in README.md, run exactly as printed, against the replay server. What is
 * substituted, and how: `x-media-dump` on PATH is a shim that runs this build (bin/), and the
 * environment carries what a reader sets up once: AGNTDATA_API_KEY (the test key),
 * AGNTDATA_API_BASE (the replay's API) and X_MEDIA_DUMP_ALLOW_HOST (the replay's media host).
 * Blocks run in order, in one scratch folder (./media carries over), except the Development
 * section's, which run in the repository as a developer would.
 */

const serve = useReplayServers();

/** Shell blocks that are not run, by their first line, and why. */
const NOT_RUN: Record<string, string> = {
  'npm install && npm run demo     # archive the demo user into ./demo-media from a local replay: no key, no network': 'reinstalls node_modules and runs this very suite; the demo itself is run from the Development section',
  'git clone https://github.com/x-media-dump/x-media-dump.git && cd x-media-dump': 'needs the network and installs globally',
  'npm pack                                   # in the clone: writes x-media-dump-0.1.0.tgz': 'package.test.ts packs the tarball and installs it (offline, into an empty folder rather than -g)',
  "export AGNTDATA_API_KEY='agnt_live_…'": "sets the reader's key; the test's comes from the environment",
  'npm test                 # tsc --noEmit, build, vitest (tests start real servers on 127.0.0.1)': 'the suite itself, and benchmarks that take minutes',
};

/** What each kind of block is, and how this file (or another) checks it. */
const KINDS: Record<string, string> = {
  sh: 'run with bash -e -o pipefail',
  cron: 'its command run as cron runs it, with its variables',
  json: 'each line parsed as JSON',
  js: 'the library example: run by package.test.ts against the installed tarball',
  text: 'sample output',
  ini: 'systemd units (not run)',
  '': 'a synopsis',
};

const firstLine = (block: FencedBlock) => block.code.split('\n')[0] ?? '';

function bash(args: readonly string[], cwd: string, env: Record<string, string>): Promise<CliResult> {
  return runCommand(args[0] ?? 'bash', args.slice(1), { cwd, env });
}

/** A folder with an `x-media-dump` that runs this build, as `npm install -g` would put one on PATH. */
function shimDir(): string {
  const dir = tempDir('xmd-bin-');
  const shim = path.join(dir, 'x-media-dump');
  fs.writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  fs.chmodSync(shim, 0o755);
  return dir;
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(VITEST.*|NODE_OPTIONS|HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy|FORCE_COLOR|DEBUG|AGNTDATA_.*)$/.test(k)) env[k] = v;
  }
  return env;
}

describe('README.md', () => {
  const blocks = readmeBlocks();

  it('every block is of a known kind, and every shell block left out says why', () => {
    expect(blocks.filter((b) => !(b.lang in KINDS)).map((b) => `line ${b.line}: ${b.lang}`)).toEqual([]);
    const shellFirstLines = blocks.filter((b) => b.lang === 'sh').map(firstLine);
    expect(Object.keys(NOT_RUN).filter((line) => !shellFirstLines.includes(line))).toEqual([]);
    expect(blocks.filter((b) => b.lang === 'js')).toHaveLength(1);
    for (const block of blocks.filter((b) => b.lang === 'json')) {
      for (const line of block.code.split('\n').filter(Boolean)) expect(() => JSON.parse(line), `line ${block.line}`).not.toThrow();
    }
  });

  it('every shell recipe, as printed, against the replay server', { timeout: 120_000 }, async () => {
    const server = await serve();
    const work = tempDir('xmd-readme-');
    const env = { ...baseEnv(), PATH: `${shimDir()}:${process.env['PATH'] ?? ''}`, AGNTDATA_API_KEY: TEST_KEY, AGNTDATA_API_BASE: server.apiBase, X_MEDIA_DUMP_ALLOW_HOST: server.host };
    // The demo archives into ./demo-media in the repository (git-ignored); started afresh, its
    // records are the same on every test run.
    fs.rmSync(path.join(REPO, 'demo-media'), { recursive: true, force: true });
    const outputs = new Map<string, CliResult>();
    const run = blocks.filter((b) => b.lang === 'sh' && !(firstLine(b) in NOT_RUN));
    expect(run.length).toBeGreaterThanOrEqual(4);
    for (const block of run) {
      const cwd = block.section === 'Development' ? REPO : work;
      const result = await bash(['bash', '-e', '-o', 'pipefail', '-c', block.code], cwd, env);
      expect(result.code, `README.md line ${block.line} (${block.section}):\n${block.code}\n${result.stderr}`).toBe(0);
      expect(result.stderr, `line ${block.line}`).not.toMatch(/^x-media-dump: (?!\[)/m);
      outputs.set(block.section, result);
    }
    const out = (section: string) => outputs.get(section)?.stdout ?? '';

    // Quick start: the archive, then every file in it.
    expect(mediaFiles(path.join(work, 'media'))).toEqual(ALL);
    expect(out('Quick start').trimEnd().split('\n').sort()).toEqual(ALL);
    expect(out('Finding a numeric user id')).toBe('96479162\n');
    // With jq: a rerun sees page 1's two photos (in either order); nothing failed; no video over a
    // minute; the bytes per type are the fixtures'; the GIF's alt text; every file intact.
    const bytes = (type: string) => Object.values(FILES).reduce((sum, f) => sum + ((f.media.startsWith('16_') ? 'animated_gif' : 'photo') === type ? (server.mediaBytes(f.key)?.length ?? Number.NaN) : 0), 0);
    const perType = JSON.stringify([{ type: 'animated_gif', bytes: bytes('animated_gif') }, { type: 'photo', bytes: bytes('photo') }], null, 2);
    const altText = /"ext_alt_text":\s*"([^"]*)"/.exec(fs.readFileSync(path.join(REPO, 'fixtures/api/96479162/page-3.json'), 'utf8'))?.[1];
    const [first, second, ...rest] = out('With jq').split('\n');
    expect([first, second].sort()).toEqual(['1513801473074896899_1.jpg', '1517995317697916928_1.jpg']);
    expect(rest.join('\n')).toBe(`${perType}\n1339647664338702336_1.mp4\t${altText}\n`);
    // Development: the demo's records, through npm, reach jq clean.
    const demo = out('Development').trimEnd().split('\n').map((line) => JSON.parse(line) as { path: string; status: string });
    expect(demo.map((r) => r.path).sort()).toEqual(ALL);
    expect(demo.map((r) => r.status)).toEqual(Array(7).fill('downloaded'));
  });

  it('the cron line, as cron runs it: its variables (PATH and the key substituted), then its command with sh', async () => {
    const server = await serve();
    const [block] = blocks.filter((b) => b.lang === 'cron');
    if (!block) throw new Error('README.md has no cron block');
    const lines = block.code.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    const variables = Object.fromEntries(lines.filter((line) => /^\w+=/.test(line)).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    expect(Object.keys(variables).sort()).toEqual(['AGNTDATA_API_KEY', 'PATH']);
    const schedule = lines.filter((line) => !/^\w+=/.test(line));
    expect(schedule).toHaveLength(1);
    const command = (schedule[0] ?? '').replace(/^(\S+\s+){5}/, '');
    const home = tempDir('xmd-cron-');
    fs.mkdirSync(path.join(home, 'x-archive'));
    const env = { HOME: home, SHELL: '/bin/sh', PATH: `${shimDir()}:${variables['PATH'] ?? ''}`, AGNTDATA_API_KEY: TEST_KEY, AGNTDATA_API_BASE: server.apiBase, X_MEDIA_DUMP_ALLOW_HOST: server.host };
    const result = await bash(['sh', '-c', command], home, env);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(mediaFiles(path.join(home, 'x-archive', 'media'))).toEqual(ALL);
    expect(fs.readFileSync(path.join(home, 'x-archive', 'x-media-dump.log'), 'utf8')).toBe('');
  });
});
