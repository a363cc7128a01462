import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { ReplayHandler } from '../fixtures/replay-server.js';
import { runCli, serverArgs, tempDir, useReplayServers } from './helpers/cli.js';
import { FILES, T1 } from './helpers/seed.js';

const serve = useReplayServers();

/** `-v` lines (they start with `* `), with the milliseconds (which vary) shown as N. */
function verboseLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('* '))
    .map((line) => line.replace(/ in \d+ ms /, ' in N ms '));
}

/** What `-v` says a file weighs, from its fixture bytes: kB with one decimal. */
const kb = (key: string, server: { mediaBytes: (key: string) => Buffer | undefined }) => `${((server.mediaBytes(key)?.length ?? Number.NaN) / 1000).toFixed(1)} KB`;

describe('-v, --verbose', () => {
  it('a header, then one line per API request (a 429 says how long it waits before the retry) and per file saved', async () => {
    let limited = false;
    // Page 2 is rate-limited once, asking for 1 s.
    const handle: ReplayHandler = (req, res) => {
      if (req.kind !== 'api' || req.token !== T1 || limited) return false;
      limited = true;
      const body = '{"success":false,"error":{"code":"RATE_LIMITED"}}';
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json', 'content-length': String(body.length) });
      res.end(body);
      return true;
    };
    const server = await serve({ handle });
    const out = tempDir();
    const result = await runCli(['--user', '96479162', '--out', out, '--concurrency', '1', '-v', ...serverArgs(server)]);
    expect(result.code, result.stderr).toBe(0);
    const lines = verboseLines(result.stderr);
    expect(lines.slice(0, 4)).toEqual([
      `* x-media-dump 0.1.0 · Node ${process.version} · ${os.type()} ${os.release()} ${os.arch()}`,
      `* API base: ${server.apiBase}`,
      '* proxy: none (HTTPS_PROXY and HTTP_PROXY are unset)',
      `* archive: ${out} (format 2)`,
    ]);
    const requests = lines.filter((line) => / → /.test(line));
    expect(requests).toEqual([
      '* POST /user/medias (page 1) → 200 in N ms · $0.01',
      '* POST /user/medias/continuation (page 2) → 429 in N ms · not billed · HTTP 429 RATE_LIMITED · waiting 1 s, then retry 1',
      '* POST /user/medias/continuation (page 2) [retry 1] → 200 in N ms · $0.01',
      '* POST /user/medias/continuation (page 3) → 200 in N ms · $0.01',
    ]);
    // Each file: its path, its size from the fixtures, and the quality saved (the GIF's one mp4 variant says bit_rate 0).
    const saved = lines.filter((line) => line.startsWith('* saved '));
    const expected = Object.entries(FILES).map(([name, file]) => `* saved ${name} · ${kb(file.key, server)} · ${name.endsWith('.mp4') ? 'mp4 0bps' : 'orig'}`);
    expect(saved.sort()).toEqual(expected.sort());
    // The 429 is neither a request billed nor one refused: three requests, three cents.
    expect(result.stderr).toContain('\n7 files on disk: 7 new (60.1 KB), 0 already archived · 0 skipped, 0 failed · 3 API requests, $0.03\n');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('a refused key: the request is shown and counted, and said not to be billed', async () => {
    const server = await serve();
    const result = await runCli(['--user', '96479162', '--out', tempDir(), '-v', ...serverArgs(server)], { env: { AGNTDATA_API_KEY: 'agnt_live_WRONG_KEY_0000' } });
    expect(result.code).toBe(3);
    expect(verboseLines(result.stderr).slice(4)).toEqual(['* POST /user/medias (page 1) → 401 in N ms · not billed · API key rejected (HTTP 401) — check AGNTDATA_API_KEY']);
    expect(result.stderr.split('\n').filter((line) => !line.startsWith('* '))).toEqual([
      '0 files on disk: 0 new, 0 already archived · 0 skipped, 0 failed · 1 API request (refused, not billed), $0.00',
      'history: 0 pages fetched, more remain: all of it · stopped: API key rejected',
      'x-media-dump: API key rejected (HTTP 401) — check AGNTDATA_API_KEY',
      '',
    ]);
  });

  it('the proxy in effect, without its password; NO_PROXY sends the API direct', async () => {
    const server = await serve();
    const env = { HTTPS_PROXY: 'http://me:s3cret@proxy.invalid:3128', NO_PROXY: '127.0.0.1' };
    const result = await runCli(['--user', '96479162', '--out', tempDir(), '-v', '--quiet', ...serverArgs(server)], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(verboseLines(result.stderr)[2]).toBe('* proxy: https via http://proxy.invalid:3128/ (HTTPS_PROXY); http direct; NO_PROXY=127.0.0.1; so the API goes direct (NO_PROXY)');
    expect(result.stderr).not.toContain('s3cret');
  });
});
