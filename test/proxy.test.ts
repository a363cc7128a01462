import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { expectMedia } from './helpers/expect.js';
import type { ReplayServer } from '../fixtures/replay-server.js';
import { startForwardProxy, type ForwardProxy } from './helpers/forward-proxy.js';
import { runCli, serverArgs, tempDir, useReplayServers, type CliResult } from './helpers/cli.js';
import { ALL, USER } from './helpers/seed.js';

/**
 * HTTP_PROXY / NO_PROXY, end to end: the built CLI, the replay server, and a small forward
 * proxy on 127.0.0.1 that counts what passes through it.
 */

const serve = useReplayServers();
const proxies: ForwardProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

async function setup(): Promise<{ server: ReplayServer; proxy: ForwardProxy }> {
  const server = await serve();
  const proxy = await startForwardProxy();
  proxies.push(proxy);
  return { server, proxy };
}

function run(server: ReplayServer, out: string, env: Record<string, string>): Promise<CliResult> {
  return runCli(['--user', USER, '--out', out, '--quiet', '--retries', '1', '--timeout', '5', ...serverArgs(server)], { env });
}

describe('proxies', () => {
  it('HTTP_PROXY: every API call and download goes through the proxy, as absolute-URI requests', async () => {
    const { server, proxy } = await setup();
    const out = tempDir();
    const result = await run(server, out, { HTTP_PROXY: proxy.url });
    expect(result.code, result.stderr).toBe(0);
    expectMedia(server, out, ALL);
    expect(proxy.connects).toBe(0);
    // 3 pages + 7 files, and the server saw nothing that did not come through the proxy.
    expect(proxy.requests).toHaveLength(10);
    expect(server.requests).toHaveLength(10);
    expect(proxy.requests.filter((r) => r.method === 'POST').map((r) => r.url)).toEqual([
      `${server.apiBase}/user/medias`,
      `${server.apiBase}/user/medias/continuation`,
      `${server.apiBase}/user/medias/continuation`,
    ]);
    expect(proxy.requests.filter((r) => r.method === 'GET').every((r) => r.url.startsWith(`${server.origin}/`))).toBe(true);
    expect(server.cdnRequests()).toHaveLength(7);
  });

  it('lower-case http_proxy works the same', async () => {
    const { server, proxy } = await setup();
    const out = tempDir();
    const result = await run(server, out, { http_proxy: proxy.url });
    expect(result.code, result.stderr).toBe(0);
    expectMedia(server, out, ALL);
    expect(proxy.requests).toHaveLength(10);
  });

  it('NO_PROXY: a listed host bypasses the proxy', async () => {
    const { server, proxy } = await setup();
    for (const noProxy of ['127.0.0.1', `localhost,127.0.0.1:${server.port}`]) {
      const out = tempDir();
      server.resetStats();
      const result = await run(server, out, { HTTP_PROXY: proxy.url, NO_PROXY: noProxy });
      expect(result.code, `${noProxy}: ${result.stderr}`).toBe(0);
      expectMedia(server, out, ALL);
      expect(proxy.requests, noProxy).toHaveLength(0);
      expect(server.requests, noProxy).toHaveLength(10);
    }
  });

  it('a proxy that is down: nothing reaches the server, retries are spent, exit 4', async () => {
    const { server } = await setup();
    const dead = http.createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const out = tempDir();
    const result = await run(server, out, { HTTP_PROXY: `http://127.0.0.1:${port}` });
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/kept failing for \/user\/medias \(page 1\): ECONNREFUSED/);
    expect(server.requests).toHaveLength(0);
    expectMedia(server, out, []);
  });
});
