import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mediaFiles, ndjson, REPO, runCli, serverArgs, tempDir, useReplayServers } from './helpers/cli.js';
import { FILES } from './helpers/seed.js';
import { inTmux, TMUX, warnIfNoTmux } from './helpers/tmux.js';

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
      'dry run: 7 files to download (sizes unknown: the API does not tell them), 0 on disk already · 0 skipped, 0 failed · 3 API requests, $0.03\n' +
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

warnIfNoTmux('cli.test.ts');

describe('on a terminal', () => {
  const args = (server: { apiBase: string; host: string }, ...extra: string[]) => ['--user', '96479162', '--out', tempDir(), '--concurrency', '2', ...serverArgs(server), ...extra];

  it.runIf(TMUX)('shows a colored spinner with live counts on stderr, then clears it and prints the summary', async () => {
    const server = await serve({ cdnLatencyMs: 300, apiLatencyMs: 200 });
    await inTmux(args(server), '', async ({ screen, until }) => {
      const during = await until((text) => /[1-6]\/7 files/.test(text));
      expect(during.split('\n')[0]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] [1-6]\/7 files · [\d.]+ KB of ~[\d.]+ KB · [\d.]+ KB\/s · ETA (\d+s|<1s) · \$0\.03$/);
      expect(screen(true).split('\n')[0]).toMatch(/^\u001b\[36m[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\u001b\[39m \d\/7 files/);
      const after = await until((text) => text.includes('EXIT='));
      expect(after.split('\n').filter((line) => line.trim() !== '')).toEqual([
        '7 files on disk: 7 new (60.1 KB), 0 already archived · 0 skipped, 0 failed · 3 API requests, $0.03',
        'history: complete · stopped: end of history',
        'EXIT=0',
      ]);
    });
  });

  for (const [how, env, flag] of [
    ['NO_COLOR', 'NO_COLOR=1', []],
    ['--no-color', '', ['--no-color']],
  ] as const) {
    it.runIf(TMUX)(`${how}: the same spinner without a single color code`, async () => {
      const server = await serve({ cdnLatencyMs: 300, apiLatencyMs: 200 });
      await inTmux(args(server, ...flag), env, async ({ screen, until }) => {
        await until((text) => /[1-6]\/7 files/.test(text));
        const colored = screen(true);
        expect(colored.split('\n')[0]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] [1-6]\/7 files · /);
        expect(colored).not.toMatch(/\u001b\[/);
        expect(await until((text) => text.includes('EXIT='))).toContain('EXIT=0');
      });
    });
  }
});

describe('the same flags everywhere', () => {
  /** Each option of a help text, its wrapped lines joined: long flag → `(default: …)`, or undefined. */
  function defaultsIn(help: string): Map<string, string | undefined> {
    const entries: string[] = [];
    for (const line of help.split('\n')) {
      if (/^  -/.test(line)) entries.push(line.trim());
      else if (/^ {4,}\S/.test(line) && entries.length > 0) entries[entries.length - 1] += ` ${line.trim()}`;
      else if (!/^ {4,}/.test(line)) entries.push('');
    }
    const defaults = new Map<string, string | undefined>();
    for (const entry of entries.filter((e) => e.startsWith('-'))) {
      const flag = /(--[a-z-]+)/.exec(entry)?.[1] ?? entry;
      defaults.set(flag, /\(default: (.*?)(?:, env: \w+)?\)/.exec(entry)?.[1]);
    }
    return defaults;
  }

  it('a flag that several commands take shows the same default in each help, and -v and --no-color are on every command', async () => {
    const helps = await Promise.all([[], ['export'], ['verify']].map(async (command) => {
      const result = await runCli([...command, '--help']);
      expect(result.code).toBe(0);
      return { command: command[0] ?? 'x-media-dump', defaults: defaultsIn(result.stdout) };
    }));
    for (const { defaults } of helps) {
      expect(defaults.has('--verbose') && defaults.has('--no-color') && defaults.has('--out')).toBe(true);
    }
    const seen = new Map<string, { command: string; value: string | undefined }>();
    let shared = 0;
    for (const { command, defaults } of helps) {
      for (const [flag, value] of defaults) {
        const first = seen.get(flag);
        if (first === undefined) seen.set(flag, { command, value });
        else {
          shared += 1;
          expect(`${flag} in ${command}: ${value}`).toBe(`${flag} in ${command}: ${first.value}`);
        }
      }
    }
    expect(shared).toBeGreaterThanOrEqual(16);
    expect(seen.get('--allow-host')?.value).toBe('none');
    expect(seen.get('--out')?.value).toBe('"./media"');
  });

  it('--no-color and -v are accepted by export and verify too', async () => {
    const server = await serve();
    const out = tempDir();
    expect((await runCli(['--user', '96479162', '--out', out, '--quiet', ...serverArgs(server)])).code).toBe(0);
    const exported = await runCli(['export', '--out', out, '--no-color']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(ndjson(exported.stdout)).toHaveLength(7);
    const verified = await runCli(['verify', '--out', out, '--no-color', '-v']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr).toMatch(/^\* x-media-dump \S+ · Node v\d+\.\d+\.\d+ · /);
    expect(verified.stderr).toContain(`* archive: ${out} (format 2)\n`);
    expect(verified.stderr).toMatch(/verified 7 files: 7 intact, 0 repaired, 0 missing or corrupt\n$/);
  });
});

describe('almost right: a suggestion, exit 2, no request', () => {
  const cases: [string[], string][] = [
    [['verfy'], "unknown command 'verfy'; did you mean verify? (see x-media-dump --help)"],
    [['exprot', '--out', 'x'], "unknown command 'exprot'; did you mean export? (see x-media-dump --help)"],
    [['@omarmhaimdat'], "unexpected argument '@omarmhaimdat'; did you mean --user @omarmhaimdat? (see x-media-dump --help)"],
    [['omarmhaimdat', '--out', 'x'], "unexpected argument 'omarmhaimdat'; did you mean --user @omarmhaimdat? (see x-media-dump --help)"],
    [['96479162'], "unexpected argument '96479162'; did you mean --user 96479162? (see x-media-dump --help)"],
    [['https://x.com/omarmhaimdat/media'], "unexpected argument 'https://x.com/omarmhaimdat/media'; did you mean --user @omarmhaimdat? (see x-media-dump --help)"],
    [['--user', '96479162', '--verbos'], "unknown option '--verbos'; did you mean --verbose? (see x-media-dump --help)"],
    [['verify', '--jsn'], "unknown option '--jsn'; did you mean --json? (see x-media-dump verify --help)"],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const server = await serve();
      const result = await runCli([...args, '--api-base', server.apiBase]);
      expect(result).toMatchObject({ code: 2, stdout: '', stderr: `x-media-dump: ${message}\n` });
      expect(server.requests).toHaveLength(0);
    });
  }
});

describe('verify --json', () => {
  const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

  it('one record per file: intact, missing, corrupt; then repaired, with what it was', async () => {
    const server = await serve();
    const out = tempDir();
    expect((await runCli(['--user', '96479162', '--out', out, '--quiet', ...serverArgs(server)])).code).toBe(0);
    fs.rmSync(path.join(out, '1513260712587669517_1.jpg'));
    const corrupt = path.join(out, '1339647664338702336_1.mp4');
    const bytes = fs.readFileSync(corrupt);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    fs.writeFileSync(corrupt, bytes);

    // Expected values come from the fixtures: each file's bytes as the CDN serves them.
    const expected = (status: (name: string) => Record<string, string>) =>
      Object.entries(FILES)
        .map(([name, file]) => {
          const body = server.mediaBytes(file.key) ?? Buffer.alloc(0);
          return { path: name, media_key: file.media, ...status(name), bytes: body.length, sha256: sha(body) };
        })
        .sort((a, b) => a.path.localeCompare(b.path));
    const byPath = (text: string) => ndjson(text).sort((a, b) => String(a['path']).localeCompare(String(b['path'])));
    const damage: Record<string, string> = { '1513260712587669517_1.jpg': 'missing', '1339647664338702336_1.mp4': 'corrupt' };

    const check = await runCli(['verify', '--out', out, '--json'], { env: { AGNTDATA_API_KEY: undefined } });
    expect(check.code, check.stderr).toBe(1);
    expect(byPath(check.stdout)).toEqual(expected((name) => ({ status: damage[name] ?? 'intact' })));

    const repair = await runCli(['verify', '--out', out, '--json', '--repair', '--allow-host', server.host], { env: { AGNTDATA_API_KEY: undefined } });
    expect(repair.code, repair.stderr).toBe(0);
    expect(byPath(repair.stdout)).toEqual(expected((name) => (damage[name] ? { status: 'repaired', was: damage[name] ?? '' } : { status: 'intact' })));
    expect(repair.stderr).toContain('verified 7 files: 5 intact, 2 repaired, 0 missing or corrupt');
  });
});
