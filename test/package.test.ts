import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCommand, tempDir, TEST_KEY, useReplayServers, type CliResult } from './helpers/cli.js';
import { readmeBlocks } from './helpers/readme.js';
import { ALL } from './helpers/seed.js';

const serve = useReplayServers();

/** `command` in `cwd` with this process's environment (no key, no vitest), plus `env`. */
function run(command: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(VITEST.*|NODE_OPTIONS|AGNTDATA_.*)$/.test(k))) as Record<string, string>;
  return runCommand(command, args, { cwd, env: { ...base, ...env } });
}

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };

/**
 * `npm pack` from a copy of the sources (so `prepack` builds a dist/ of its own and this suite's
 * dist/ is never rebuilt under the other tests), with the repository's node_modules linked in.
 */
async function packTarball(): Promise<{ tgz: string; files: string[] }> {
  const stage = tempDir('xmd-pack-');
  for (const entry of ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src']) {
    fs.cpSync(path.join(REPO, entry), path.join(stage, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(stage, 'node_modules'));
  const packed = await run('npm', ['pack', '--json'], stage);
  expect(packed.code, packed.stderr).toBe(0);
  expect(packed.stderr.split('\n').filter((line) => /warn/i.test(line))).toEqual([]);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  if (!info) throw new Error(`npm pack said: ${packed.stdout}`);
  return { tgz: path.join(stage, info.filename), files: info.files.map((f) => f.path).sort() };
}

/**
 * The scratch project the tarball is installed into: empty but for a package-lock.json naming
 * the production dependencies at the versions the repository locks (copied from its lockfile).
 * Why: `npm ci` leaves their tarballs in npm's cache, but `npm install <tgz>` without a lock asks
 * the registry for each dependency's full metadata, which the cache does not hold; with the lock,
 * `npm install --offline <tgz>` takes everything from the cache, on a clean CI clone as here.
 */
function scratchProject(): string {
  const dir = tempDir('xmd-install-');
  const lock = JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const packages: Record<string, unknown> = { '': { name: 'scratch' } };
  for (const [where, entry] of Object.entries(lock.packages)) if (where.startsWith('node_modules/') && entry.dev !== true) packages[where] = entry;
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true }, null, 2));
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ name: 'scratch', lockfileVersion: 3, requires: true, packages }, null, 2));
  return dir;
}

describe('the npm package', () => {
  it('packs dist/ with its types, installs offline with no install script and no warning, works as a library (the README example) and as a command', { timeout: 240_000 }, async () => {
    const { tgz, files } = await packTarball();
    expect(path.basename(tgz)).toBe(`${pkg.name}-${pkg.version}.tgz`);
    for (const file of ['package.json', 'README.md', 'LICENSE', 'bin/x-media-dump.js', 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'dist/run.d.ts']) expect(files).toContain(file);
    expect(files.filter((f) => !/^(bin|dist)\//.test(f) && !['package.json', 'README.md', 'LICENSE'].includes(f))).toEqual([]);

    const scratch = scratchProject();
    const installed = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tgz], scratch);
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stderr).toBe('');
    const manifest = JSON.parse(fs.readFileSync(path.join(scratch, 'node_modules', pkg.name, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    expect(Object.keys(manifest.scripts ?? {}).filter((s) => /^(pre|post)?install$|^prepare$/.test(s))).toEqual([]);
    expect(fs.readdirSync(path.join(scratch, 'node_modules')).sort()).toEqual(expect.arrayContaining([pkg.name, ...Object.keys(pkg.dependencies)]));

    // As a library: the README's example, exactly as printed, against the replay server (the
    // key, the API base and the replay's media host come from the environment).
    const server = await serve();
    const env = { AGNTDATA_API_KEY: TEST_KEY, AGNTDATA_API_BASE: server.apiBase, X_MEDIA_DUMP_ALLOW_HOST: server.host };
    const example = readmeBlocks().filter((block) => block.lang === 'js');
    expect(example).toHaveLength(1);
    fs.writeFileSync(path.join(scratch, 'example.mjs'), example[0]?.code ?? '');
    const library = await run(process.execPath, ['example.mjs'], scratch, env);
    expect(library, library.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(library.stdout).toBe('7 files on disk, 7 new, $0.03\n1339647664338702336_1.mp4\n');
    expect(fs.readdirSync(path.join(scratch, 'media')).filter((f) => !f.startsWith('.')).sort()).toEqual(ALL);
    expect(server.apiRequests()).toHaveLength(3);

    // Its types: a consumer compiles against dist/*.d.ts through `exports`, and a wrong call does not.
    fs.writeFileSync(
      path.join(scratch, 'check.mts'),
      [
        "import { archive, exportRecords, verify, UsageError, type ArchiveResult, type ItemRecord } from 'x-media-dump';",
        "const result: ArchiveResult = await archive({ user: '96479162', out: './media', concurrency: 2 });",
        'const records: ItemRecord[] = [];',
        "for await (const record of exportRecords({ out: './media' })) records.push(record);",
        "const checked: number = (await verify({ out: './media' })).checked;",
        'export const summary = [result.exitCode, records.length, checked, UsageError.name];',
        '// @ts-expect-error: user is required',
        'await archive({});',
        '',
      ].join('\n'),
    );
    const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const typeRoots = path.join(REPO, 'node_modules', '@types');
    const types = await run(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--typeRoots', typeRoots, '--types', 'node', 'check.mts'], scratch);
    expect(types.stdout + types.stderr).toBe('');
    expect(types.code).toBe(0);

    // As a command: the bin npm linked, on the archive the example wrote.
    const bin = path.join(scratch, 'node_modules', '.bin', 'x-media-dump');
    expect(await run(bin, ['--version'], scratch)).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    const exported = await run(bin, ['export', '--out', 'media'], scratch);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout.trimEnd().split('\n')).toHaveLength(7);
    const archived = await run(bin, ['--user', '96479162', '--out', 'media'], scratch, env);
    expect(archived).toMatchObject({ code: 0, stdout: '' });
    expect(archived.stderr).toContain('7 files on disk: 0 new, 7 already archived');
  });
});
