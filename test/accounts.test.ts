import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import type { RecordedRequest, ReplayServer } from '../fixtures/replay-server.js';
import { REPO, archiveRun, mediaFiles, ndjson, runCli, serverArgs, tempDir, useReplayServers } from './helpers/cli.js';
import { expectSaved } from './helpers/expect.js';
import { ALL, seedServerPages, USER } from './helpers/seed.js';
import { paginate, photoTweet, sha256, tweetIds } from './helpers/tweets.js';

/**
 * Many accounts in one run (issue 17), through the CLI against a replay server that plays three:
 * the seed's @omarmhaimdat (3 pages, 7 files) and two synthetic ones, @user111 and @user222
 * (2 pages of 2 tweets each, one photo a tweet).
 */

const serve = useReplayServers();
const B = '111';
const C = '222';

function threeAccounts(extra: Partial<Record<string, unknown[]>> = {}) {
  const b = paginate(tweetIds(4, 1_700_000_000_000_000_000n).map((id) => photoTweet(id, 1, 2048, B)), 2, 'B');
  const c = paginate(tweetIds(4, 1_690_000_000_000_000_000n).map((id) => photoTweet(id, 1, 2048, C)), 2, 'C');
  const pages = { ...seedServerPages(), [B]: b.pages, [C]: c.pages, ...extra };
  const media = new Map([...b.media, ...c.media]);
  const users = {
    omarmhaimdat: { user_id: USER, username: 'omarmhaimdat' },
    user111: { user_id: B, username: 'user111' },
    user222: { user_id: C, username: 'user222' },
  };
  return { pages, media, users, bFiles: [...b.media.keys()], cFiles: [...c.media.keys()] };
}

async function threeServer(extra: Partial<Record<string, unknown[]>> = {}): Promise<ReplayServer> {
  const { pages, media, users } = threeAccounts(extra);
  const seed = (await import('../fixtures/replay-server.js')).loadFixtureMedia();
  for (const [key, bytes] of seed) media.set(key, bytes);
  return serve({ pages, media, users });
}

/** The user each media-page request was for, and whether it was page 1. */
const pageRequests = (s: ReplayServer) =>
  s.apiRequests()
    .filter((r: RecordedRequest) => r.path.startsWith('/v1/x/user/medias'))
    .map((r) => `${r.userIdRaw ?? '?'}:${r.token === undefined ? 'head' : r.token}`);

describe('targets', () => {
  it('a users file naming one account three ways (URL, handle, id) archives it once', async () => {
    const s = await serve();
    const out = tempDir();
    const file = path.join(tempDir(), 'users.txt');
    fs.writeFileSync(file, '# my accounts\nhttps://x.com/omarmhaimdat/media?s=20\n\n@OmarMhaimdat   # again\n96479162\n');
    const run = await archiveRun(s, out, ['--users-file', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(s.apiRequests().filter((r) => r.path === '/v1/x/user/details')).toHaveLength(1);
    expect(pageRequests(s)).toEqual([`${USER}:head`, `${USER}:DAABCgABFu-OJkw___gKAAIVmAq8iZYgAggAAwAAAAIAAA`, `${USER}:DAABCgABFu-OJkw__-8KAAISl2Jz9RcQAAgAAwAAAAIAAA`]);
    // One account: files where one account's files always went.
    expect(mediaFiles(out)).toEqual(ALL);
  });

  it('--user accepts profile URLs of twitter.com, mobile.twitter.com and x.com, and reads a users file from stdin', async () => {
    const s = await serve();
    for (const target of ['https://twitter.com/omarmhaimdat', 'mobile.twitter.com/omarmhaimdat/', 'https://x.com/omarmhaimdat/media']) {
      const run = await archiveRun(s, tempDir(), ['--dry-run'], { user: target });
      expect(run.code, `${target}: ${run.stderr}`).toBe(0);
    }
    const bad = await archiveRun(s, tempDir(), [], { user: 'https://x.com/home' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is neither a numeric user id, a handle like @omarmhaimdat, nor a profile URL');
    s.resetStats();
    const piped = await runCli(['--users-file', '-', '--out', tempDir(), ...serverArgs(s), '--dry-run'], { input: '# from a pipe\n96479162\n' });
    expect(piped.code, piped.stderr).toBe(0);
    expect(pageRequests(s)[0]).toBe(`${USER}:head`);
    const typo = await runCli(['--users-file', '-', '--out', tempDir(), ...serverArgs(s)], { input: '96479162\nnot a user!\n' });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('x-media-dump: standard input line 2: "not a user!" is neither a numeric user id, a handle like @omarmhaimdat, nor a profile URL like https://x.com/omarmhaimdat\n');
  });
});

describe('one run, three accounts', () => {
  it('files go under each account folder; a summary line per account and the total', async () => {
    const s = await threeServer();
    const out = tempDir();
    const { bFiles, cFiles } = threeAccounts();
    const run = await archiveRun(s, out, ['--user', '@user111', '--user', C]);
    expect(run.code, run.stderr).toBe(0);
    expect(mediaFiles(out)).toEqual([...ALL.map((n) => `omarmhaimdat/${n}`), ...listed(out, 'user111'), ...listed(out, 'user222')].sort());
    expect(listed(out, 'user111')).toHaveLength(bFiles.length);
    expect(listed(out, 'user222')).toHaveLength(cFiles.length);
    expectSaved(s, path.join(out, 'omarmhaimdat'), ALL);
    // The other two accounts' files, by the names and bytes the server's tweets give them.
    for (const [folder, start] of [['user111', 1_700_000_000_000_000_000n], ['user222', 1_690_000_000_000_000_000n]] as const) {
      const ids = tweetIds(4, start);
      expect(listed(out, folder)).toEqual(ids.map((id) => `${folder}/${id}_1.jpg`).sort());
      for (const id of ids) expect(sha256(fs.readFileSync(path.join(out, folder, `${id}_1.jpg`)))).toBe(sha256(s.mediaBytes(`pbs.twimg.com/media/P${BigInt(id) - 1000n}.jpg`) ?? Buffer.alloc(0)));
    }
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toContain('96479162: 7 new files · 3 requests · history: complete · stopped: end of history');
    expect(lines).toContain('@user111: 4 new files · 3 requests · history: complete · stopped: end of history');
    expect(lines).toContain('222: 4 new files · 2 requests · history: complete · stopped: end of history');
    // Heads first: every account's page 1 before any account's page 2.
    expect(pageRequests(s).slice(0, 3).map((r) => r.split(':')[1])).toEqual(['head', 'head', 'head']);
  });

  it("--metadata-filename '{account}/{tweet_id}.json': each sidecar lands in its account's folder, beside its media", async () => {
    const s = await threeServer();
    const out = tempDir();
    const run = await archiveRun(s, out, ['--user', '@user111', '--user', C, '--metadata-filename', '{account}/{tweet_id}.json']);
    expect(run.code, run.stderr).toBe(0);
    for (const [folder, start] of [['user111', 1_700_000_000_000_000_000n], ['user222', 1_690_000_000_000_000_000n]] as const) {
      const ids = tweetIds(4, start);
      expect(listed(out, folder)).toEqual(ids.flatMap((id) => [`${folder}/${id}.json`, `${folder}/${id}_1.jpg`]).sort());
    }
    expect(fs.existsSync(path.join(out, 'unknown'))).toBe(false);
  });

  it('--max-pages 3 across three accounts checks every head first', async () => {
    const s = await threeServer();
    const out = tempDir();
    const run = await runCli(['--user', USER, '--user', B, '--user', C, '--out', out, ...serverArgs(s), '--retries', '0', '--max-pages', '3']);
    expect(run.code, run.stderr).toBe(0);
    expect(pageRequests(s)).toEqual([`${USER}:head`, `${B}:head`, `${C}:head`]);
    for (const id of [USER, B, C]) expect(run.stderr).toMatch(new RegExp(`${id}: \\d+ new files? · 1 request · history: 1 page fetched, more remain: the backfill.* · stopped: --max-pages`));
  });

  it('one account the API does not know fails alone: the others finish, exit 2, its line says why', async () => {
    const s = await threeServer();
    const out = tempDir();
    const run = await archiveRun(s, out, ['--user', B, '--user', '999']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('999: 0 new files · 2 requests · failed: no such user: 999 (agntdata knows no X user with this id); check --user');
    expect(run.stderr).toContain(`${B}: 4 new files`);
    // The total counts every request the server answered: the unknown user's empty page (billed)
    // and its /user/details 404 (made, not billed) among them.
    const answered = s.apiRequests().length;
    expect(s.apiRequests().filter((r) => r.path === '/v1/x/user/details')).toHaveLength(1);
    expect(answered).toBe(7);
    expect(run.stderr).toContain('· 7 API requests (1 refused, not billed), $0.06\n');
    const records = ndjson(run.stdout);
    expect(records.filter((r) => r['status'] === 'downloaded')).toHaveLength(11);
    expect(records.filter((r) => r['status'] === 'failed')).toEqual([{ author_id: '999', status: 'failed', reason: 'no such user: 999 (agntdata knows no X user with this id); check --user' }]);
    expectMediaRecordsValid(records);
  });

  it('a renamed account keeps the folder it had at its first archive', async () => {
    const s = await threeServer();
    const out = tempDir();
    expect((await archiveRun(s, out, ['--user', '@user111'])).code).toBe(0);
    // @user111 is now @bravo: its tweets say so, and a new one arrives.
    const { pages } = threeAccounts();
    const renamed = JSON.parse(JSON.stringify(pages[B]).replaceAll('"username":"user111"', '"username":"bravo"')) as { results: unknown[] }[];
    const fresh = photoTweet('1710000000000000000', 1, 2048, B);
    (fresh.tweet['user'] as Record<string, unknown>)['username'] = 'bravo';
    renamed[0]?.results.unshift(fresh.tweet);
    const s2 = await serve({ pages: { ...seedServerPages(), [B]: renamed }, media: new Map([...threeAccounts().media, ...fresh.files]) });
    const second = await archiveRun(s2, out, ['--user', B]);
    expect(second.code, second.stderr).toBe(0);
    expect(listed(out, 'user111')).toHaveLength(5);
    expect(fs.existsSync(path.join(out, 'bravo'))).toBe(false);
  });
});

describe('the config file', () => {
  const configIn = (dir: string, settings: unknown) => {
    fs.mkdirSync(path.join(dir, 'x-media-dump'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'x-media-dump', 'config.json'), JSON.stringify(settings));
  };

  it('$XDG_CONFIG_HOME/x-media-dump/config.json gives the users and defaults; flags win; --no-config ignores it', async () => {
    const s = await threeServer();
    const home = tempDir();
    const out = tempDir();
    configIn(home, { users: ['@user111', C], out, apiBase: s.apiBase, allowHost: [s.host], retries: 0, dryRun: true });
    const env = { XDG_CONFIG_HOME: home };
    const planned = await runCli([], { env, cwd: tempDir() });
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stderr).toContain('dry run: 8 files to download');
    const flagged = await runCli(['--user', B, '--max-pages', '1', '--out', tempDir()], { env, cwd: tempDir() });
    expect(flagged.code, flagged.stderr).toBe(0);
    expect(flagged.stderr).toContain('dry run: 2 files to download');
    const ignored = await runCli(['--no-config', '--out', tempDir()], { env });
    expect(ignored.code).toBe(2);
    expect(ignored.stderr).toMatch(/^x-media-dump: missing --user/);
  });

  it('--config FILE; an unknown key or a wrong type is exit 2 naming the key and the file', async () => {
    const s = await serve();
    const dir = tempDir();
    const file = path.join(dir, 'mine.json');
    fs.writeFileSync(file, JSON.stringify({ users: [USER], apiBase: s.apiBase, allowHost: [s.host], out: path.join(dir, 'media') }));
    const run = await runCli(['--config', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(mediaFiles(path.join(dir, 'media'))).toEqual(ALL);
    fs.writeFileSync(file, JSON.stringify({ users: [USER], apiKey: 'agnt_live_x' }));
    const unknown = await runCli(['--config', file]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`x-media-dump: ${file}: unknown key "apiKey" (the API key is never read from the config file: use AGNTDATA_API_KEY or AGNTDATA_API_KEY_FILE); see schemas/config.schema.json for the keys\n`);
    fs.writeFileSync(file, JSON.stringify({ concurrency: 'eight' }));
    const wrong = await runCli(['--config', file, '--user', USER]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(new RegExp(`^x-media-dump: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: concurrency: .*expected number`));
    const missing = await runCli(['--config', path.join(dir, 'nope.json'), '--user', USER]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read the config file');
  });

  it('AGNTDATA_API_KEY_FILE holds the key for cron and containers', async () => {
    const s = await serve();
    const secret = path.join(tempDir(), 'key');
    fs.writeFileSync(secret, 'agnt_live_TESTKEY_5f2c9e1d7b\n');
    const run = await archiveRun(s, tempDir(), [], { env: { AGNTDATA_API_KEY: undefined, AGNTDATA_API_KEY_FILE: secret } });
    expect(run.code, run.stderr).toBe(0);
    expect(s.apiRequests().every((r) => r.headers.authorization === 'Bearer agnt_live_TESTKEY_5f2c9e1d7b')).toBe(true);
    expect(s.apiRequests()).toHaveLength(3);
    const missing = await archiveRun(s, tempDir(), [], { env: { AGNTDATA_API_KEY: undefined, AGNTDATA_API_KEY_FILE: `${secret}.gone` } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`x-media-dump: cannot read AGNTDATA_API_KEY_FILE ${secret}.gone (ENOENT); check the path\n`);
  });
});

describe('--shard K/N', () => {
  it('for every N from 1 to 8, the shards cover every account exactly once', async () => {
    const s = await serve();
    const ids = ['96479162', '111', '222', '333', '444', '555', '6666', '77777', '1382752483745251328'];
    const out = tempDir();
    for (let n = 1; n <= 8; n++) {
      const seen: string[] = [];
      for (let k = 0; k < n; k++) {
        const run = await runCli([...ids.flatMap((id) => ['--user', id]), '--out', out, ...serverArgs(s), '--max-pages', '0', '--shard', `${k}/${n}`]);
        expect(run.code, run.stderr).toBe(0);
        seen.push(...[...run.stderr.matchAll(/^(\d+): /gm)].map((m) => m[1] ?? ''));
      }
      expect(seen.sort(), `N = ${n}`).toEqual([...ids].sort());
    }
    expect(s.apiRequests()).toHaveLength(0);
    const bad = await runCli(['--user', USER, '--shard', '3/3']);
    expect(bad.code).toBe(2);
  });
});

/** Files of one account's folder, as paths under --out. */
function listed(out: string, folder: string): string[] {
  const dir = path.join(out, folder);
  return fs.existsSync(dir) ? fs.readdirSync(dir).map((name) => `${folder}/${name}`) : [];
}

function expectMediaRecordsValid(records: Record<string, unknown>[]): void {
  const ajv = new Ajv2020({ strict: false });
  const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(REPO, 'schemas', 'media-record.schema.json'), 'utf8')) as object);
  for (const record of records) expect(validate(record), `${JSON.stringify(record)}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}
