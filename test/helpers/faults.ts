import { spawn } from 'node:child_process';
import type http from 'node:http';
import { loadFixtureMedia, type RecordedRequest, type ReplayHandler } from '../../fixtures/replay-server.js';
import { MP4 } from './seed.js';

/** Faults for the replay server's `handle` hook, and other ways to make things go wrong. */

/** Answer a request from a replay-server `handle` hook with a JSON body (or text); returns true. */
export function answer(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
  return true;
}

/** A fault for the `handle` hook that holds requests open until the client goes away. */
export interface Stall {
  handle: ReplayHandler;
  /** Resolves once the first request is held (and, for a transfer, half of it sent). */
  reached: Promise<void>;
  /** Lets every later request through. */
  release: () => void;
}

/** Holds `matches` requests, `begin` having started the answer, until the client drops them. */
function stall(matches: (req: RecordedRequest) => boolean, begin: (res: http.ServerResponse, reached: () => void) => void): Stall {
  const reached = deferred();
  let on = true;
  return {
    handle: async (req, res) => {
      if (!on || !matches(req)) return false;
      begin(res, reached.resolve);
      await new Promise((r) => res.on('close', r));
      return true;
    },
    reached: reached.promise,
    release: () => {
      on = false;
    },
  };
}

/** The page asked for with `token` is never answered: a run caught mid-page. */
export function stallPage(token: string): Stall {
  return stall((req) => req.token === token, (_res, reached) => reached());
}

/** The seed's mp4 gets its headers and its first half, then nothing: a run caught mid-download. */
export function stallMp4Halfway(): Stall {
  const bytes = loadFixtureMedia().get(MP4);
  if (!bytes) throw new Error(`the fixtures have no ${MP4}`);
  return stall(
    (req) => req.path === `/${MP4}`,
    (res, reached) => {
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': String(bytes.length) });
      res.write(bytes.subarray(0, bytes.length >> 1), reached);
    },
  );
}

export function deferred<T = void>() {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The pid of a process that has exited. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => child.on('exit', r));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}
