import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFixtureMedia } from '../fixtures/replay-server.js';
import { BIN, ndjson, serverArgs, tempDir, TEST_KEY, useReplayServers } from './helpers/cli.js';
import { sha256 } from './helpers/tweets.js';

const serve = useReplayServers();

/**
 * A full disk, for real: --out is a 40 KB tmpfs mounted in a private mount namespace
 * (`unshare -rm`, no root needed), too small for the seed's 60 KB of media. The first run fills
 * it; then the same mount is grown to 1 MB and the next run finishes the job.
 */
describe('a full disk', () => {
  it('loses and corrupts nothing: failed items are recorded, the next run fetches exactly those', async () => {
    const server = await serve();
    const out = tempDir('xmd-full-');
    const log = tempDir('xmd-full-log-');
    const run = (name: string) =>
      `${process.execPath} ${BIN} --user 96479162 --out "$OUT" --json --concurrency 1 ${serverArgs(server).join(' ')} > "$LOG/${name}.ndjson" 2> "$LOG/${name}.err"; echo $? > "$LOG/${name}.code"` +
      `; (cd "$OUT" && find . -type f | sort) > "$LOG/${name}.files"; (cd "$OUT" && find . -type f -name '*.jpg' -o -type f -name '*.mp4' | sort | xargs -r sha256sum) > "$LOG/${name}.sums"; cp "$OUT/.x-media-dump/journal.jsonl" "$LOG/${name}.journal"`;
    const script = ['mount -t tmpfs -o size=40k tmpfs "$OUT" || exit 97', run('first'), 'mount -o remount,size=1m "$OUT" || exit 98', run('second')].join('\n');
    const child = spawn('unshare', ['-rm', 'sh', '-c', script], { env: { PATH: process.env['PATH'] ?? '', OUT: out, LOG: log, AGNTDATA_API_KEY: TEST_KEY }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(status, stderr).toBe(0);
    const read = (name: string) => fs.readFileSync(path.join(log, name), 'utf8');

    // First run: out of space part-way. Exit 1, every item accounted for, each failure says why.
    expect(read('first.code').trim()).toBe('1');
    const first = ndjson(read('first.ndjson'));
    const saved = first.filter((r) => r['status'] === 'downloaded');
    const failed = first.filter((r) => r['status'] === 'failed');
    expect(saved.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    expect(saved.length + failed.length).toBe(7);
    for (const record of failed) expect(String(record['reason'])).toMatch(/^cannot write \S+ \(?ENOSPC/);
    // Each failure is printed as it happens, then the summary.
    expect(read('first.err')).toMatch(/^(failed: [^\n]+\n)+\d files? on disk: \d new \(.+\), 0 already archived · 0 skipped, \d failed · 3 API requests, \$0\.03\nhistory: complete · stopped: end of history\nwaiting: \d media found but not on disk yet; the next run fetches them without paying for their pages again\n$/);
    // Nothing half-written: no temp file, every media file whole, every journal line whole.
    expect(read('first.files').split('\n').filter((f) => f.includes('/tmp/') || f.endsWith('.part'))).toEqual([]);
    expectWhole(read('first.sums'));
    for (const line of read('first.journal').trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();

    // Second run, with room: one API request, and the CDN is asked for exactly what failed.
    expect(read('second.code').trim()).toBe('0');
    const second = ndjson(read('second.ndjson'));
    const fetched = second.filter((r) => r['status'] === 'downloaded').map((r) => r['media_key']);
    expect(fetched.sort()).toEqual(failed.map((r) => r['media_key']).sort());
    expect(server.apiRequests()).toHaveLength(4);
    const sums = read('second.sums');
    expect(sums.trimEnd().split('\n')).toHaveLength(7);
    expectWhole(sums);
  });
});

/** Every `sha256sum` line names a file byte-identical to one the CDN serves: nothing partial. */
function expectWhole(sums: string): void {
  const served = new Set([...loadFixtureMedia().values()].map((bytes) => sha256(bytes)));
  for (const line of sums.trimEnd().split('\n').filter(Boolean)) {
    const [sum, file] = line.split(/\s+/);
    expect(served.has(sum ?? ''), `${file} is not byte-identical to anything the server sent`).toBe(true);
  }
}
