import { EnvHttpProxyAgent, type Dispatcher } from 'undici';

/**
 * One connection pool for the whole run. EnvHttpProxyAgent honours HTTPS_PROXY / HTTP_PROXY /
 * NO_PROXY and is a plain Agent when none is set. Its headers and body timeouts are idle
 * timeouts: they fire when nothing arrives for that long, not on a long transfer.
 *
 * `proxyTunnel: false` sends plain-http requests to the proxy as absolute-URI requests, as curl
 * and most clients do; undici's default CONNECT for them is refused by common proxy setups
 * (squid allows CONNECT to 443 only). https always goes through a CONNECT tunnel.
 */
export function createDispatcher(timeoutMs: number, connections: number): Dispatcher {
  return new EnvHttpProxyAgent({
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: timeoutMs },
    connections,
    keepAliveTimeout: 10_000,
    proxyTunnel: false,
  });
}

/** Why `url` may not be fetched, naming the scheme or the host; undefined when it may. */
export function refusalOf(url: URL, allowHosts: readonly string[]): string | undefined {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `refused ${url.protocol}// URL on ${url.host || 'no host'}: only http and https are fetched`;
  if (!isAllowedUrl(url, allowHosts)) return `host ${url.host} is not on the allowlist (add it with --allow-host ${url.host})`;
  return undefined;
}

/** `host` or `host:port` entries; an entry without a port allows that host on any port. */
export function isAllowedUrl(url: URL, allowHosts: readonly string[]): boolean {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  const hostname = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowHosts.some((entry) => {
    const [host, entryPort] = splitHostPort(entry.toLowerCase());
    return host === hostname && (entryPort === undefined || entryPort === port);
  });
}

function splitHostPort(entry: string): [string, string | undefined] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return [`[${bracketed[1] ?? ''}]`, bracketed[2]];
  const m = /^([^:]+)(?::(\d+))?$/.exec(entry);
  return m ? [m[1] ?? entry, m[2]] : [entry, undefined];
}

/** A URL fit for messages and records: no credentials, no query secrets of ours ever get here. */
export function displayUrl(url: URL): string {
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  return copy.toString();
}

/**
 * `url` without its user info (`https://user:pass@host/…` → `https://host/…`), as text. Applied
 * where URLs enter (payloads, redirects), so a password in a media URL is never printed,
 * journaled or emitted. Text that is not a URL is returned with anything up to an `@` after
 * `//` cut out, which is all user info can be.
 */
export function withoutUserinfo(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
  }
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
