/**
 * Every default a flag has, in one place: the command line shows these in every help that has
 * the flag, and the library (`src/index.ts`) fills in the same ones. (`--filename`'s default
 * depends on how many accounts a run has: `media/filename.ts`.)
 */
export const DEFAULTS = {
  out: './media',
  concurrency: 8,
  pageSize: 20,
  types: 'photo,video,animated_gif',
  retries: 5,
  /** seconds */
  timeout: 30,
  /** seconds */
  maxWait: 600,
  /** bytes/s; shown as 1K */
  minRate: 1024,
  /** bytes; shown as 4G */
  maxFileSize: 4 * 1024 ** 3,
} as const;

/**
 * The range each numeric flag accepts, wherever its value comes from: the command line, the config
 * file or the library. (Byte counts may be as large as a safe integer.)
 */
export const LIMITS = {
  concurrency: [1, 64],
  pageSize: [1, 100],
  maxPages: [0, 1_000_000],
  retries: [0, 100],
  timeout: [1, 3600],
  maxWait: [0, 86_400],
  minRate: [0, Number.MAX_SAFE_INTEGER],
  maxFileSize: [1, Number.MAX_SAFE_INTEGER],
} as const satisfies Record<string, readonly [number, number]>;

/** Hosts to fetch media from beyond X's own, comma-separated: what `--allow-host` adds, from the environment. */
export const ALLOW_HOST_ENV = 'X_MEDIA_DUMP_ALLOW_HOST';
