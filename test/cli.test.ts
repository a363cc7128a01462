import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, mediaFiles, ndjson, REPO, runCli, serverArgs, tempDir, TEST_KEY, useReplayServers } from './helpers/cli.js';
import type { ReplayServer } from '../fixtures/replay-server.js';

const serve = useReplayServers();

const version = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

describe('help and version', () => {
  it('--help lists every flag with its default and an example for each use', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const flag of ['--user', '--out', '--json', '--concurrency', '--page-size', '--max-pages', '--since', '--until', '--types', '--no-retweets', '--filename', '--dry-run', '--full', '--allow-host', '--api-base', '--retries', '--timeout', '--max-wait', '--min-rate', '--max-file-size', '--quiet', '--version']) {
      expect(result.stdout).toContain(flag);
    }
    const flat = result.stdout.replace(/\s+/g, ' ');
    for (const fallback of ['(default: "./media")', '(default: 8)', '(default: 20)', '(default: "photo,video,animated_gif")', '(default: {tweet_id}_{n}.{ext}; {account}/{tweet_id}_{n}.{ext} with several accounts)', '(default: https://api.agntdata.dev/v1/x', '(default: 5)', '(default: 30)', '(default: 600)', '(default: 1K)', '(default: 4G)']) {
      expect(flat).toContain(fallback);
    }
    expect(result.stdout).toContain('by hand    AGNTDATA_API_KEY=agnt_live_… x-media-dump --user 96479162 --out ./media');
    expect(result.stdout).toMatch(/cron {7}15 3 \* \* \* /);
    expect(result.stdout).toContain("jq         x-media-dump --user 96479162 --json | jq -r 'select(.type == \"video\") | .path'");
    expect(result.stdout).toMatch(/export \[options\]\s+write the archive's records as NDJSON/);
    expect(result.stdout).toMatch(/verify \[options\]\s+re-hash every archived file/);
  });

  it('--version prints the package version', async () => {
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('output modes', () => {
  it('--quiet: a successful run prints nothing at all', async () => {
    const server = await serve();
    const result = await runCli(['--user', '96479162', '--out', tempDir(), '--quiet', ...serverArgs(server)]);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(server.cdnRequests()).toHaveLength(7);
  });

  it('--dry-run pages and plans, downloads nothing, and says what a real run would fetch', async () => {
    const server = await serve();
    const out = tempDir();
    const result = await runCli(['--user', '96479162', '--out', out, '--dry-run', '--json', ...serverArgs(server)]);
    expect(result.code).toBe(0);
    expect(ndjson(result.stdout).map((r) => r['status'])).toEqual(Array(7).fill('planned'));
    expect(result.stderr).toBe(
      'dry run: 7 files to download (sizes unknown: the API does not tell them), 0 already archived, 0 skipped · 3 API requests, $0.03\n' +
        'pages fetched here are remembered: the real run pays only for pages not fetched yet\nhistory: complete · stopped: end of history\n',
    );
    expect(server.cdnRequests()).toHaveLength(0);
    expect(mediaFiles(out)).toEqual([]);

    // What the dry run paid for is remembered: the real run asks for page 1 only.
    server.resetStats();
    const real = await runCli(['--user', '96479162', '--out', out, ...serverArgs(server)]);
    expect(real.code).toBe(0);
    expect(server.apiRequests()).toHaveLength(1);
    expect(server.cdnRequests()).toHaveLength(7);
  });

  it('filters by --types, --since/--until and says why each item was skipped', async () => {
    const server = await serve();
    const result = await runCli(['--user', '96479162', '--out', tempDir(), '--json', '--types', 'photo', '--since', '2021-01-01', '--until', '2022-04-12', ...serverArgs(server)]);
    expect(result.code).toBe(0);
    const records = ndjson(result.stdout)
      .map((r) => [r['tweet_id'], r['status'], r['reason']])
      .sort((a, b) => String(b[0]).localeCompare(String(a[0])));
    expect(records).toEqual([
      ['1517995317697916928', 'skipped', 'filtered: after --until'],
      ['1513801473074896899', 'downloaded', undefined],
      ['1513260712587669517', 'downloaded', undefined],
      ['1497526869406670848', 'downloaded', undefined],
      ['1490431825918967810', 'downloaded', undefined],
      ['1401511472413487106', 'downloaded', undefined],
      ['1339647664338702336', 'skipped', 'filtered: type animated_gif'],
    ]);
  });

  it('--filename templates name files, with folders, and two items never share a path', async () => {
    const server = await serve();
    const out = tempDir();
    const result = await runCli(['--user', '96479162', '--out', out, '--filename', '{username}/{date}.{ext}', ...serverArgs(server)]);
    expect(result.code).toBe(0);
    expect(mediaFiles(out)).toEqual([
      'omarmhaimdat/2020-12-17.mp4',
      'omarmhaimdat/2021-06-06.jpg',
      'omarmhaimdat/2022-02-06.jpg',
      'omarmhaimdat/2022-02-26.jpg',
      'omarmhaimdat/2022-04-10.jpg',
      'omarmhaimdat/2022-04-12.jpg',
      'omarmhaimdat/2022-04-23.jpg',
    ]);
  });

  it('a template that maps two items to one path keeps both, the second with its media_key', async () => {
    const server = await serve();
    const out = tempDir();
    const result = await runCli(['--user', '96479162', '--out', out, '--json', '--types', 'photo', '--filename', '{username}.{ext}', ...serverArgs(server)]);
    expect(result.code).toBe(0);
    const paths = ndjson(result.stdout)
      .filter((r) => r['status'] === 'downloaded')
      .map((r) => String(r['path']));
    expect(new Set(paths).size).toBe(6);
    expect(paths.filter((p) => p === 'omarmhaimdat.jpg')).toHaveLength(1);
    expect(paths.filter((p) => /^omarmhaimdat~3_\d+\.jpg$/.test(p))).toHaveLength(5);
    expect(mediaFiles(out)).toEqual([...paths].sort());
  });

  it('export writes the archive as NDJSON without a key, equal to what --json printed', async () => {
    const server = await serve();
    const out = tempDir();
    const run = await runCli(['--user', '96479162', '--out', out, '--json', ...serverArgs(server)]);
    expect(run.code).toBe(0);
    const exported = await runCli(['export', '--out', out], { env: { AGNTDATA_API_KEY: undefined } });
    expect(exported.code).toBe(0);
    expect(exported.stderr).toBe('');
    const strip = (r: Record<string, unknown>) => ({ ...r, status: undefined });
    const sortKey = (r: Record<string, unknown>) => String(r['media_key']);
    const fromRun = ndjson(run.stdout).sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    const fromExport = ndjson(exported.stdout).sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    expect(fromExport.map((r) => r['status'])).toEqual(Array(7).fill('exists'));
    expect(fromExport.map(strip)).toEqual(fromRun.map(strip));
  });

  it('export of a folder that is no archive exits 2 with one line', async () => {
    const result = await runCli(['export', '--out', tempDir()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^x-media-dump: \S+ is not an x-media-dump archive \(no \.x-media-dump\/ in it\); check --out\n$/);
  });
});

describe('handles', () => {
  it('resolves @handle once and remembers it across runs', async () => {
    const server = await serve();
    const out = tempDir();
    const first = await runCli(['--user', '@OmarMhaimdat', '--out', out, ...serverArgs(server)]);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('· 4 API requests, $0.04');
    const second = await runCli(['--user', 'omarmhaimdat', '--out', out, ...serverArgs(server)]);
    expect(second.code).toBe(0);
    const details = server.apiRequests().filter((r) => r.path === '/v1/x/user/details');
    expect(details.map((r) => r.query['username'])).toEqual(['omarmhaimdat']);
    expect(server.apiRequests().filter((r) => r.path !== '/v1/x/user/details').map((r) => r.userIdRaw)).toEqual(['96479162', '96479162', '96479162', '96479162']);
  });

  it('a handle that does not exist exits 2 with a clear message', async () => {
    const server = await serve();
    const result = await runCli(['--user', '@nobody_here_42', '--out', tempDir(), ...serverArgs(server)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('x-media-dump: @nobody_here_42 does not exist on X (agntdata has no such user); check the handle\n');
    expect(server.apiRequests().map((r) => r.path)).toEqual(['/v1/x/user/details']);
  });
});

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The CLI in a real terminal (tmux), read back as a person sees it; `-e` keeps the colors. */
async function inTmux(server: ReplayServer, env: string, look: (screen: (colors?: boolean) => string, until: (p: (text: string) => boolean) => Promise<string>) => Promise<void>): Promise<void> {
  const session = `xmd-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const command = `env -u CI ${env} AGNTDATA_API_KEY=${TEST_KEY} ${process.execPath} ${BIN} --user 96479162 --out ${tempDir()} --concurrency 2 ${serverArgs(server).join(' ')}; echo "EXIT=$?"; sleep 60`;
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '12', command]);
  const screen = (colors = false) => execFileSync('tmux', ['capture-pane', '-p', ...(colors ? ['-e'] : []), '-t', session], { encoding: 'utf8' });
  const until = async (predicate: (text: string) => boolean): Promise<string> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const text = screen();
      if (predicate(text) || Date.now() > deadline) return text;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  try {
    await look(screen, until);
  } finally {
    execFileSync('tmux', ['kill-session', '-t', session]);
  }
}

// On CI tmux is installed by .ci/run, so a missing one fails there instead of skipping.
const tmux = hasTmux() || process.env['CI'] === 'true';
if (!tmux) process.stderr.write('cli.test.ts: tmux is not installed; the terminal tests are skipped (apt-get install tmux)\n');

describe('on a terminal', () => {
  it.runIf(tmux)('shows a colored spinner with live counts on stderr, then clears it and prints the summary', async () => {
    const server = await serve({ cdnLatencyMs: 300, apiLatencyMs: 200 });
    await inTmux(server, '', async (screen, until) => {
      const during = await until((text) => /media · [1-9]\d* saved/.test(text));
      expect(during.split('\n')[0]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \d pages · \d media · [1-9] saved, 0 archived, 0 skipped, 0 failed · [\d.]+ KB at [\d.]+ KB\/s · \$0\.0[1-3]$/);
      expect(screen(true).split('\n')[0]).toMatch(/^\u001b\[36m[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\u001b\[39m \d pages/);
      const after = await until((text) => text.includes('EXIT='));
      expect(after.split('\n').filter((line) => line.trim() !== '')).toEqual([
        'saved 7 files (60.1 KB), 0 already archived, 0 skipped, 0 failed · 3 API requests, $0.03',
        'history: complete · stopped: end of history',
        'EXIT=0',
      ]);
    });
  });

  it.runIf(tmux)('NO_COLOR: the same spinner without a single color code', async () => {
    const server = await serve({ cdnLatencyMs: 300, apiLatencyMs: 200 });
    await inTmux(server, 'NO_COLOR=1', async (screen, until) => {
      await until((text) => /media · [1-9]\d* saved/.test(text));
      const colored = screen(true);
      expect(colored.split('\n')[0]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \d pages · \d media · /);
      expect(colored).not.toMatch(/\u001b\[/);
      expect(await until((text) => text.includes('EXIT='))).toContain('EXIT=0');
    });
  });
});
