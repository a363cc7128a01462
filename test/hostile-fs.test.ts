import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReplayServer } from '../fixtures/replay-server.js';
import { archiveRun, BIN, listFiles, ndjson, PRESETS, runCli, serverArgs, tempDir, TEST_KEY, useReplayServers } from './helpers/cli.js';
import { expectMedia, expectOnly, expectSaved, served } from './helpers/expect.js';
import { deferred } from './helpers/faults.js';
import { readJournal } from './helpers/journal.js';
import { ALL, FILES, MP4, MP4_FILE, T2, USER } from './helpers/seed.js';
import { sha256 } from './helpers/tweets.js';

/**
 * File systems and folders that fight back, end to end through the built CLI: links planted
 * where the tool writes (the temp path, a folder component, the state folder), a file system
 * without hard links (an LD_PRELOAD shim, and a real vfat image where the kernel has vfat), a
 * folder on another mount (EXDEV), read-only mounts, a lock whose pid was reused. Mounts are
 * real, in a private mount namespace (`unshare -rm`, as test/disk.test.ts does).
 */

const serve = useReplayServers();

const MP4_KEY = FILES[MP4_FILE]?.media ?? '';
const TEMP = `.x-media-dump/tmp/${MP4_KEY}.part`;

/** A folder outside --out with a file in it, and a check that both are exactly as they were. */
function victim(): { dir: string; file: string; unchanged: () => void } {
  const dir = tempDir('xmd-victim-');
  const file = path.join(dir, 'precious.txt');
  fs.writeFileSync(file, 'do not touch\n');
  fs.mkdirSync(path.join(dir, 'tmp'));
  fs.writeFileSync(path.join(dir, 'tmp', 'keep.part'), 'mine\n');
  return {
    dir,
    file,
    unchanged: () => {
      expect(listFiles(dir)).toEqual(['precious.txt', 'tmp/keep.part']);
      expect(fs.readFileSync(file, 'utf8')).toBe('do not touch\n');
      expect(fs.readFileSync(path.join(dir, 'tmp', 'keep.part'), 'utf8')).toBe('mine\n');
    },
  };
}

describe('planted links', () => {
  it('at the temp path, planted before the temp file is made: removed, never followed; the run succeeds', async () => {
    const target = victim();
    let out = '';
    // Page 3 names the mp4: plant the link at its temp path while page 3 is asked for.
    const server = await serve({
      handle: (req) => {
        if (req.token === T2) fs.symlinkSync(target.file, path.join(out, TEMP));
        return false;
      },
    });
    out = tempDir();
    const result = await archiveRun(server, out);
    expect(result.code, result.stderr).toBe(0);
    expectMedia(server, out, ALL);
    expectOnly(out, ALL);
    target.unchanged();
  });

  it('at the temp path, swapped in mid-download: the item fails, the link is not renamed into --out', async () => {
    const target = victim();
    let out = '';
    let swap = true;
    const server = await serve({
      handle: (req) => {
        if (swap && req.kind === 'cdn' && req.path === `/${MP4}`) {
          fs.rmSync(path.join(out, TEMP));
          fs.symlinkSync(target.file, path.join(out, TEMP));
        }
        return false;
      },
    });
    out = tempDir();
    const result = await archiveRun(server, out);
    expect(result.code, result.stderr).toBe(1);
    const record = ndjson(result.stdout).find((r) => r['media_key'] === MP4_KEY);
    expect(record?.['reason']).toBe(`the temp file ${path.join(out, TEMP)} was replaced while downloading; nothing kept`);
    expectOnly(out, ALL.filter((n) => n !== MP4_FILE));
    target.unchanged();

    swap = false;
    const again = await archiveRun(server, out);
    expect(again.code, again.stderr).toBe(0);
    expectOnly(out, ALL);
    expectSaved(server, out, ALL);
  });

  it('at a folder component of --filename: every item under it fails, nothing lands outside --out', async () => {
    const target = victim();
    const server = await serve();
    const out = tempDir();
    fs.symlinkSync(target.dir, path.join(out, 'omarmhaimdat'));
    const result = await archiveRun(server, out, ['--filename', '{username}/{tweet_id}_{n}.{ext}']);
    expect(result.code, result.stderr).toBe(1);
    const records = ndjson(result.stdout);
    expect(records.map((r) => r['status'])).toEqual(Array(7).fill('failed'));
    for (const r of records) {
      expect(r['reason']).toBe(`refusing to write omarmhaimdat/${String(r['tweet_id'])}_1.${r['type'] === 'photo' ? 'jpg' : 'mp4'}: omarmhaimdat is a symbolic link, which is never followed`);
    }
    expect(readJournal(out).files.size).toBe(0);
    target.unchanged();
  });

  it('at a file name: the link is replaced by the file, what it pointed to is untouched', async () => {
    const target = victim();
    const server = await serve();
    const out = tempDir();
    fs.symlinkSync(target.file, path.join(out, '1517995317697916928_1.jpg'));
    const result = await archiveRun(server, out);
    expect(result.code, result.stderr).toBe(0);
    expect(fs.lstatSync(path.join(out, '1517995317697916928_1.jpg')).isFile()).toBe(true);
    expectMedia(server, out, ALL);
    target.unchanged();
  });

  it('as the state folder: exit 2 before any request, and nothing in the folder it points to is touched', async () => {
    const target = victim();
    const server = await serve();
    const out = tempDir();
    fs.symlinkSync(target.dir, path.join(out, '.x-media-dump'));
    for (const args of [[], ['verify'], ['export']]) {
      const result = args.length === 0 ? await archiveRun(server, out) : await runCli([...args, '--out', out]);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toBe(
        `x-media-dump: ${out}/.x-media-dump is a symbolic link; the state folder must be a real folder inside --out (remove the link, or point --out at the real archive)\n`,
      );
    }
    expect(server.requests).toHaveLength(0);
    target.unchanged();
  });

  it('--filename rendering into the state folder: exit 2 before any request', async () => {
    const server = await serve();
    for (const template of ['.x-media-dump/journal.jsonl', '.X-Media-Dump./{tweet_id}.{ext}', '.x-media-dump']) {
      const out = tempDir();
      const result = await archiveRun(server, out, ['--filename', template]);
      expect(result.code, template).toBe(2);
      expect(result.stderr).toBe(`x-media-dump: --filename ${JSON.stringify(template)} renders into .x-media-dump/, the archive's state folder; pick another folder name\n`);
      expect(fs.readdirSync(out)).toEqual([]);
    }
    expect(server.requests).toHaveLength(0);
  });
});

describe('unusable --out, state folder or lock', () => {
  it('an empty --out is exit 2 for every command, and nothing is written in the current folder', async () => {
    const cwd = tempDir();
    for (const args of [['--user', USER, '--out', ''], ['verify', '--out', ''], ['export', '--out', ' ']]) {
      const result = await runCli(args, { cwd });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toBe('x-media-dump: --out is empty; name the archive folder, e.g. --out ./media\n');
    }
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('--out that is a file, a state folder that is a file, a lock that is a folder: exit 2 naming the path', async () => {
    const server = await serve();
    const file = path.join(tempDir(), 'not-a-folder');
    fs.writeFileSync(file, 'x');
    const stateIsFile = tempDir();
    fs.writeFileSync(path.join(stateIsFile, '.x-media-dump'), 'x');
    const lockIsFolder = tempDir();
    fs.mkdirSync(path.join(lockIsFolder, '.x-media-dump', 'lock'), { recursive: true });
    const cases: [string, string][] = [
      [file, `x-media-dump: --out ${file} is not a folder; pick another --out\n`],
      [stateIsFile, `x-media-dump: ${stateIsFile}/.x-media-dump is not a folder; move it out of the way (x-media-dump keeps its state there)\n`],
      [lockIsFolder, `x-media-dump: ${lockIsFolder}/.x-media-dump/lock is a folder, not a lock file; remove it (x-media-dump never makes one)\n`],
    ];
    for (const [out, message] of cases) {
      const result = await archiveRun(server, out);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toBe(message);
    }
    expect(server.requests).toHaveLength(0);
  });
});

describe('the lock', () => {
  /** `boot=… start=…` of a live process, read from /proc here. */
  function identityOf(pid: number): { boot: string; start: string } {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { boot: fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), start: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '' };
  }

  it('held by a live process that is not the run that took it (a reused pid, another boot): taken over', async () => {
    const server = await serve();
    // The test runner is alive; the lock claims it, but with another start time, then another boot.
    const live = identityOf(process.pid);
    for (const identity of [`boot=${live.boot} start=${Number(live.start) + 1}`, `boot=00000000-0000-0000-0000-000000000000 start=${live.start}`]) {
      const out = tempDir();
      fs.mkdirSync(path.join(out, '.x-media-dump'));
      fs.writeFileSync(path.join(out, '.x-media-dump', 'lock'), `${process.pid}\n${identity}\n`);
      const result = await archiveRun(server, out);
      expect(result.code, `${identity}: ${result.stderr}`).toBe(0);
      expectOnly(out, ALL);
    }
  });

  it('held by that very process: exit 2 naming its pid', async () => {
    const server = await serve();
    const out = tempDir();
    const live = identityOf(process.pid);
    fs.mkdirSync(path.join(out, '.x-media-dump'));
    fs.writeFileSync(path.join(out, '.x-media-dump', 'lock'), `${process.pid}\nboot=${live.boot} start=${live.start}\n`);
    const result = await archiveRun(server, out);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`x-media-dump: ${out} is being archived by another run (pid ${process.pid}); wait for it to finish\n`);
    expect(server.requests).toHaveLength(0);
  });
});

/** A shared library that makes link() and linkat() fail with EPERM, as on FAT and some NAS mounts. */
function linkShim(): string | undefined {
  const dir = tempDir('xmd-shim-');
  const source = path.join(dir, 'nolink.c');
  fs.writeFileSync(
    source,
    '#include <errno.h>\nint link(const char *a, const char *b) { (void)a; (void)b; errno = EPERM; return -1; }\n' +
      'int linkat(int fa, const char *a, int fb, const char *b, int flags) { (void)fa; (void)a; (void)fb; (void)b; (void)flags; errno = EPERM; return -1; }\n',
  );
  try {
    execFileSync('cc', ['-shared', '-fPIC', '-o', path.join(dir, 'nolink.so'), source], { stdio: 'pipe' });
    return path.join(dir, 'nolink.so');
  } catch {
    return undefined;
  }
}

const shim = linkShim();
if (!shim) process.stderr.write('hostile-fs.test.ts: no C compiler (cc); the link() EPERM tests are skipped (apt-get install gcc)\n');

describe('a file system without hard links', () => {
  it.runIf(shim)('link() failing with EPERM (LD_PRELOAD): the lock falls back to an exclusive create and still excludes a second run', async () => {
    const env = { LD_PRELOAD: shim ?? '' };
    // The shim works: link() really fails in a process it is loaded into.
    const check = execFileSync(process.execPath, ['-e', "const fs=require('fs');fs.writeFileSync(process.argv[1]+'/a','');try{fs.linkSync(process.argv[1]+'/a',process.argv[1]+'/b');console.log('linked')}catch(e){console.log(e.code)}", tempDir()], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(check.trim()).toBe('EPERM');

    const arrived = deferred();
    const release = deferred();
    const server = await serve({
      handle: async (req) => {
        if (req.kind !== 'api' || req.token !== undefined) return false;
        arrived.resolve();
        await release.promise;
        return false;
      },
    });
    const out = tempDir();
    let pid: number | undefined;
    const first = archiveRun(server, out, [], { env, onSpawn: (child) => (pid = child.pid) });
    await arrived.promise;
    const second = await archiveRun(server, out, [], { env });
    expect(second.code, second.stderr).toBe(2);
    expect(second.stderr).toBe(`x-media-dump: ${out} is being archived by another run (pid ${pid ?? '?'}); wait for it to finish\n`);
    release.resolve();
    const done = await first;
    expect(done.code, done.stderr).toBe(0);
    expectOnly(out, ALL);
    expectSaved(server, out, ALL);
  });
});

/** Run `script` in a private mount namespace; `$LOG/<name>.{code,out,err}` hold each CLI run's results. */
async function inMountNamespace(script: string, env: Record<string, string>, unshareArgs = ['-rm']): Promise<{ status: number | null; stderr: string; read: (name: string) => string }> {
  const log = tempDir('xmd-ns-log-');
  const child = spawn('unshare', [...unshareArgs, 'sh', '-c', script], { env: { PATH: process.env['PATH'] ?? '', LOG: log, AGNTDATA_API_KEY: TEST_KEY, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { status, stderr, read: (name) => fs.readFileSync(path.join(log, name), 'utf8') };
}

/** A shell line running the CLI with `args`, its exit code, stdout and stderr saved under $LOG/<name>. */
function cli(name: string, args: readonly string[]): string {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return `${process.execPath} ${BIN} ${quoted} > "$LOG/${name}.out" 2> "$LOG/${name}.err"; echo $? > "$LOG/${name}.code"`;
}

/** `sha256sum` lines → file name (relative) → sum. */
function sums(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trimEnd()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [sum = '', file = ''] = line.split(/\s+/);
        return [file.replace(/^\.\//, ''), sum];
      }),
  );
}

function servedSums(server: ReplayServer, names: readonly string[], folder = ''): Record<string, string> {
  return Object.fromEntries(names.map((n) => [`${folder}${n}`, sha256(served(server, FILES[n]?.key ?? n))]));
}

describe('other mounts', () => {
  it('a folder under --out that is another mount (EXDEV): files are copied across, whole, with nothing left beside them', async () => {
    const server = await serve();
    const out = tempDir('xmd-exdev-');
    const script = [
      'mkdir -p "$OUT/omarmhaimdat" && mount -t tmpfs -o size=4m tmpfs "$OUT/omarmhaimdat" || exit 97',
      cli('run', ['--user', USER, '--out', out, '--filename', '{username}/{tweet_id}_{n}.{ext}', ...serverArgs(server), ...PRESETS.strict]),
      '(cd "$OUT" && find . -type f | sort) > "$LOG/files"; (cd "$OUT" && find omarmhaimdat -type f | sort | xargs -r sha256sum) > "$LOG/sums"',
    ].join('\n');
    const ns = await inMountNamespace(script, { OUT: out });
    expect(ns.status, ns.stderr).toBe(0);
    expect(ns.read('run.code').trim(), ns.read('run.err')).toBe('0');
    expect(ndjson(ns.read('run.out')).map((r) => r['status'])).toEqual(Array(7).fill('downloaded'));
    expect(sums(ns.read('sums'))).toEqual(servedSums(server, ALL, 'omarmhaimdat/'));
    expect(ns.read('files').trimEnd().split('\n')).toEqual(['./.x-media-dump/journal.jsonl', './.x-media-dump/tweets.jsonl.gz', ...ALL.map((n) => `./omarmhaimdat/${n}`)].sort());
  });

  it('a read-only archive: verify works without the lock; --repair, a run and a fresh --out under it exit 2 naming the path', async () => {
    const server = await serve();
    const mount = tempDir('xmd-ro-');
    const archive = path.join(mount, 'archive');
    const fresh = path.join(mount, 'fresh');
    const script = [
      'mount -t tmpfs -o size=4m tmpfs "$M" || exit 97',
      cli('first', ['--user', USER, '--out', archive, ...serverArgs(server), ...PRESETS.strict]),
      'mount -o remount,ro "$M" || exit 98',
      cli('verify', ['verify', '--out', archive]),
      cli('export', ['export', '--out', archive]),
      cli('repair', ['verify', '--repair', '--out', archive]),
      cli('rerun', ['--user', USER, '--out', archive, ...serverArgs(server), ...PRESETS.strict]),
      cli('fresh', ['--user', USER, '--out', fresh, ...serverArgs(server), ...PRESETS.strict]),
    ].join('\n');
    const ns = await inMountNamespace(script, { M: mount });
    expect(ns.status, ns.stderr).toBe(0);
    expect(ns.read('first.code').trim(), ns.read('first.err')).toBe('0');
    const requests = server.requests.length;

    expect(ns.read('verify.code').trim(), ns.read('verify.err')).toBe('0');
    expect(ns.read('verify.err')).toBe('verified 7 files: 7 intact, 0 repaired, 0 missing or corrupt\n');
    expect(ns.read('export.code').trim()).toBe('0');
    expect(ndjson(ns.read('export.out')).map((r) => r['status'])).toEqual(Array(7).fill('exists'));

    const lockTemp = new RegExp(`^x-media-dump: cannot use --out ${archive}: ${archive}/\\.x-media-dump/lock\\.\\d+: EROFS \\(read-only file system\\); pick a folder you can write to\\n$`);
    expect(ns.read('repair.code').trim()).toBe('2');
    expect(ns.read('repair.err')).toMatch(lockTemp);
    expect(ns.read('rerun.code').trim()).toBe('2');
    expect(ns.read('rerun.err')).toMatch(lockTemp);
    expect(ns.read('fresh.code').trim()).toBe('2');
    expect(ns.read('fresh.err')).toBe(`x-media-dump: cannot use --out ${fresh}: ${fresh}: EROFS (read-only file system); pick a folder you can write to\n`);
    // None of the refused runs asked the API or the CDN for anything.
    expect(server.requests).toHaveLength(requests);
  });

  it('a real vfat image (no hard links), where the kernel and the machine allow it', async (context) => {
    const mkfs = ['/usr/sbin/mkfs.vfat', '/sbin/mkfs.vfat'].find((p) => fs.existsSync(p));
    if (mkfs === undefined) {
      process.stderr.write('hostile-fs.test.ts: mkfs.vfat is missing (apt-get install dosfstools); the real vfat image test is skipped\n');
      context.skip();
      return;
    }
    const server = await serve();
    const dir = tempDir('xmd-vfat-');
    const image = path.join(dir, 'fat.img');
    const mount = path.join(dir, 'mnt');
    fs.mkdirSync(mount);
    execFileSync('dd', ['if=/dev/zero', `of=${image}`, 'bs=1M', 'count=8'], { stdio: 'ignore' });
    execFileSync(mkfs, [image], { stdio: 'ignore' });
    const script = [
      'mount -o loop "$IMG" "$M" || exit 97',
      cli('run', ['--user', USER, '--out', `${mount}/media`, ...serverArgs(server), ...PRESETS.strict]),
      '(cd "$M/media" && find . -type f | sort) > "$LOG/files"',
    ].join('\n');
    // Loop mounts need real root: try a plain mount namespace first, then a user one.
    let ns = await inMountNamespace(script, { IMG: image, M: mount }, ['-m']);
    if (ns.status === 97) ns = await inMountNamespace(script, { IMG: image, M: mount });
    if (ns.status === 97) {
      const vfat = /\bvfat\b/.test(fs.readFileSync('/proc/filesystems', 'utf8')) ? '' : 'the kernel has no vfat; ';
      process.stderr.write(`hostile-fs.test.ts: cannot mount a vfat image here (${vfat}${ns.stderr.trim().split('\n')[0] ?? ''}); the real vfat image test is skipped\n`);
      context.skip();
      return;
    }
    expect(ns.read('run.code').trim(), ns.read('run.err')).toBe('0');
    expect(ns.read('files').trimEnd().split('\n')).toEqual(['./.x-media-dump/journal.jsonl', './.x-media-dump/tweets.jsonl.gz', ...ALL.map((n) => `./${n}`)].sort());
  });
});
