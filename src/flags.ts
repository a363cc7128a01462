import { type Command, InvalidArgumentError, Option } from 'commander';
import { checkHost } from './config.js';
import { ALLOW_HOST_ENV, DEFAULTS, LIMITS } from './defaults.js';

/** The command line's flag parsers, and the flags several commands share (used by cli.ts). */

export function integer(flag: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`${flag} must be a whole number from ${min} to ${max}.`);
    }
    return Number(value);
  };
}

/** A repeatable flag's values, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** --max-cost: US dollars, `0.50`, `3` or `$3`. */
export function dollars(value: string): number {
  const amount = Number(value.trim().replace(/^\$/, ''));
  if (!Number.isFinite(amount) || amount <= 0) throw new InvalidArgumentError('--max-cost must be an amount in US dollars, e.g. 0.50 or 3');
  return amount;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A byte count: `1048576`, `512K`, `4G`, `4GiB` (binary units). */
function byteCount(flag: string, min: number) {
  return (value: string): number => {
    const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(value.trim());
    const bytes = m ? Math.round(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? Number.NaN)) : Number.NaN;
    if (!Number.isSafeInteger(bytes) || bytes < min) throw new InvalidArgumentError(`${flag} must be a number of bytes of at least ${min}, e.g. 1024, 512K, 4G.`);
    return bytes;
  };
}

/** --allow-host, repeatable, each value a host or a comma list of them (as the environment gives). */
function collectHosts(value: string, previous: string[]): string[] {
  try {
    return [...previous, ...value.split(',').map((host) => host.trim()).filter(Boolean).map(checkHost)];
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * The flags several commands share, built once each, so a flag reads the same and shows the same
 * default in every help it appears in.
 */
export const shared = {
  out: () => new Option('--out <dir>', 'archive folder (created if missing when archiving)').default(DEFAULTS.out),
  allowHost: () =>
    new Option('--allow-host <host[:port]>', 'also fetch media from this host (repeatable; the variable takes a comma list)')
      .argParser(collectHosts)
      .default([], 'none')
      .env(ALLOW_HOST_ENV),
  concurrency: () => new Option('--concurrency <n>', 'parallel downloads (and checks), 1-64').argParser(integer('--concurrency', ...LIMITS.concurrency)).default(DEFAULTS.concurrency),
  retries: () => new Option('--retries <n>', 'retries for a request or transfer that failed transiently').argParser(integer('--retries', ...LIMITS.retries)).default(DEFAULTS.retries),
  timeout: () => new Option('--timeout <seconds>', 'idle timeout for one request or transfer').argParser(integer('--timeout', ...LIMITS.timeout)).default(DEFAULTS.timeout),
  maxWait: () => new Option('--max-wait <seconds>', 'total time to wait on rate limits before saving and exiting 4').argParser(integer('--max-wait', ...LIMITS.maxWait)).default(DEFAULTS.maxWait),
  minRate: () =>
    new Option('--min-rate <bytes/s>', 'a transfer or API response slower than this, averaged over --timeout, is a stall: retried once, then failed (0: no minimum)')
      .argParser(byteCount('--min-rate', LIMITS.minRate[0]))
      .default(DEFAULTS.minRate, '1K'),
  maxFileSize: () =>
    new Option('--max-file-size <bytes>', 'refuse a file announced or counted larger than this (K, M, G: binary units)').argParser(byteCount('--max-file-size', LIMITS.maxFileSize[0])).default(DEFAULTS.maxFileSize, '4G'),
  quiet: () => new Option('--quiet', 'no progress and no summary on stderr; errors only'),
  verbose: () => new Option('-v, --verbose', 'a header (version, Node, OS, API base, proxy, archive format), then a line per API request and per file saved'),
  noColor: () => new Option('--no-color', 'no colors on the terminal (NO_COLOR=1 does the same)'),
};

/** The transfer flags of every command that downloads (the main one, verify --repair), in help order. */
export function withTransferFlags(command: Command): Command {
  return command
    .addOption(shared.retries())
    .addOption(shared.timeout())
    .addOption(shared.maxWait())
    .addOption(shared.minRate())
    .addOption(shared.maxFileSize());
}

/** The output flags every command takes. */
export function withOutputFlags(command: Command): Command {
  return command.addOption(shared.verbose()).addOption(shared.noColor());
}

/** What withOutputFlags adds to a command's flags. */
export interface OutputFlags {
  verbose?: boolean;
  color: boolean;
}
