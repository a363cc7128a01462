import os from 'node:os';
import type { ApiRequestEvent, ItemRecord } from '../types.js';
import { formatBytes, formatDollars } from './summary.js';

/**
 * `-v`: what a bug report needs, one line each, marked `* ` (as curl -v does). A header (what
 * runs where, through which proxy, on which archive format), then a line per API request and
 * per file saved. Pure text: the reporter writes it.
 */

export interface HeaderFacts {
  version: string;
  /** The API base in effect; undefined for commands that make no API request. */
  apiBase: string | undefined;
  /** The archive folder. */
  out: string;
  archiveFormat: number;
  env: Readonly<Record<string, string | undefined>>;
}

export function verboseHeader(facts: HeaderFacts): string[] {
  const lines = [
    `x-media-dump ${facts.version} · Node ${process.version} · ${os.type()} ${os.release()} ${os.arch()}`,
    ...(facts.apiBase === undefined ? [] : [`API base: ${withoutUserinfo(facts.apiBase)}`]),
    `proxy: ${proxyLine(facts.apiBase, facts.env)}`,
    `archive: ${facts.out} (format ${facts.archiveFormat})`,
  ];
  return lines.map((line) => `* ${line}`);
}

/** `POST /user/medias (page 1) → 200 in 12 ms · $0.01`, or what failed and whether it is tried again. */
export function requestLine(event: ApiRequestEvent): string {
  const status = event.status === undefined ? 'no answer' : String(event.status);
  const attempt = event.attempt > 0 ? ` [retry ${event.attempt}]` : '';
  let line = `* ${event.method} ${event.endpoint} (${event.what})${attempt} → ${status} in ${Math.round(event.ms)} ms · ${event.cents > 0 ? formatDollars(event.cents) : 'not billed'}`;
  if (event.error !== undefined) line += ` · ${event.error}`;
  if (event.retryInMs !== undefined) line += ` · waiting ${formatWait(event.retryInMs)}, then retry ${event.attempt + 1}`;
  return line;
}

/** `saved 1517995317697916928_1.jpg · 6.1 KB · orig`. */
export function savedLine(record: ItemRecord): string {
  return `* saved ${record.path ?? '?'} · ${formatBytes(record.bytes ?? 0)}${record.quality ? ` · ${record.quality}` : ''}`;
}

/** Whole seconds when it is whole (`1 s`), else tenths (`0.3 s`). */
function formatWait(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

/**
 * The proxy each kind of request goes through, read from the environment as undici's
 * EnvHttpProxyAgent reads it: lower case first, https falling back to the http proxy, NO_PROXY
 * hosts (and their subdomains) going direct. Credentials in a proxy URL are never shown.
 */
function proxyLine(apiBase: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const http = pick(env, 'http_proxy', 'HTTP_PROXY');
  const https = pick(env, 'https_proxy', 'HTTPS_PROXY') ?? http;
  if (!http && !https) return 'none (HTTPS_PROXY and HTTP_PROXY are unset)';
  const noProxy = (env['no_proxy'] ?? env['NO_PROXY'] ?? '').trim();
  const via = (proxy: { name: string; value: string } | undefined) => (proxy ? `via ${withoutUserinfo(proxy.value)} (${proxy.name})` : 'direct');
  const parts = [`https ${via(https)}`, `http ${via(http)}`];
  if (noProxy !== '') parts.push(`NO_PROXY=${noProxy}`);
  if (apiBase !== undefined) {
    const api = bypasses(apiBase, noProxy) ? 'direct (NO_PROXY)' : via(new URL(apiBase).protocol === 'https:' ? https : http);
    parts.push(`so the API goes ${api}`);
  }
  return parts.join('; ');
}

/** A URL without its user info (a proxy's password, most often); text that is not a URL is cut after `//…@`. */
function withoutUserinfo(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
  }
}

function pick(env: Readonly<Record<string, string | undefined>>, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value) return { name, value };
  }
  return undefined;
}

/** NO_PROXY as undici reads it: `*` for all, else host or host:port entries, subdomains included. */
function bypasses(url: string, noProxy: string): boolean {
  if (noProxy.trim() === '*') return true;
  const { protocol, hostname, port } = new URL(url);
  const portNumber = Number(port) || (protocol === 'https:' ? 443 : 80);
  return noProxy
    .split(/[,\s]/)
    .filter(Boolean)
    .some((entry) => {
      const m = /^(.+):(\d+)$/.exec(entry);
      const host = (m?.[1] ?? entry).replace(/^\*?\./, '').toLowerCase();
      if (m?.[2] !== undefined && Number(m[2]) !== portNumber) return false;
      return hostname === host || hostname.endsWith(`.${host}`);
    });
}
