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

/** Hosts to fetch media from beyond X's own, comma-separated: what `--allow-host` adds, from the environment. */
export const ALLOW_HOST_ENV = 'X_MEDIA_DUMP_ALLOW_HOST';
