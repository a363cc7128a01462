/**
 * Every error class of x-media-dump. Only `cli.ts` turns these into an exit; everything else
 * throws or returns them. Messages are one line, say what went wrong and what to do, and never
 * hold the API key.
 *
 *   XmdError (exitCode, code)
 *   ├── UsageError 2 ── LockedError 2
 *   ├── ApiAuthError 3, ApiCreditsError 3
 *   ├── ApiFailedError 4 ── TokenRejectedError 4
 *   ├── RateLimitedError 4, PayloadError 4
 *   ├── ArchiveWriteError 1, ViewWriteError 1
 *   └── InterruptedError 130
 *   TransientError   a failure worth another try (retry.ts decides); never reaches the user
 *   └── StallError   a body slower than --min-rate: retried once, then the item or the run fails
 *   TransferError    one file could not be fetched: the item's record says why, the run goes on
 *   UnsafePathError  a path the tool will not write (a link, outside --out); becomes a TransferError
 *   NotFoundError    the API has no such user (the caller decides what that means)
 */
export const ExitCode = {
  ok: 0,
  itemsFailed: 1,
  usage: 2,
  apiRefused: 3,
  apiFailed: 4,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class XmdError extends Error {
  override name = 'XmdError';
  readonly exitCode: ExitCode;
  readonly code: string;
  constructor(code: string, exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A bad flag, a missing key or an unusable --out: thrown before any API request. */
export class UsageError extends XmdError {
  override name = 'UsageError';
  constructor(message: string) {
    super('E_USAGE', ExitCode.usage, message);
  }
}

/** Another run holds the archive's lock (`pid` undefined: a run is writing the lock right now). */
export class LockedError extends XmdError {
  override name = 'LockedError';
  constructor(out: string, pid: number | undefined) {
    super('E_LOCKED', ExitCode.usage, `${out} is being archived by another run (${pid === undefined ? 'starting now' : `pid ${pid}`}); wait for it to finish`);
  }
}

/** 401/403: the API key was refused. */
export class ApiAuthError extends XmdError {
  override name = 'ApiAuthError';
  constructor(status: number) {
    super('E_API_AUTH', ExitCode.apiRefused, `API key rejected (HTTP ${status}) — check AGNTDATA_API_KEY`);
  }
}

/** 402 or INSUFFICIENT_CREDITS: the balance is empty. */
export class ApiCreditsError extends XmdError {
  override name = 'ApiCreditsError';
  constructor() {
    super('E_API_CREDITS', ExitCode.apiRefused, 'out of credits — top up your agntdata balance; the next run resumes where this one stopped');
  }
}

/** The API or the network kept failing, or refused the request (422 and other 4xx). */
export class ApiFailedError extends XmdError {
  override name = 'ApiFailedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_API_FAILED', ExitCode.apiFailed, message, options);
  }
}

/**
 * The API would not continue from a continuation token (expired, or unknown to it). The pager
 * recovers when the token was one an earlier run saved; otherwise it ends the run (exit 4).
 */
export class TokenRejectedError extends ApiFailedError {
  override name = 'TokenRejectedError';
}

/** 429s outlasted --max-wait. */
export class RateLimitedError extends XmdError {
  override name = 'RateLimitedError';
  constructor(waitedSeconds: number, limitSeconds: number) {
    super(
      'E_RATE_LIMITED',
      ExitCode.apiFailed,
      `rate-limited; waited ${waitedSeconds}s and the server asks for more than the ${limitSeconds}s --max-wait allows; the next run resumes`,
    );
  }
}

/**
 * The API answered 200 but the body is not a page we can read. Kept apart from transport
 * failures (as ky keeps SchemaValidationError outside KyError): retrying will not help.
 */
export class PayloadError extends XmdError {
  override name = 'PayloadError';
  constructor(message: string) {
    super('E_PAYLOAD', ExitCode.apiFailed, message);
  }
}

/** A failed system call as a person reads it in one line: its errno code (`ENOSPC`), else the error. */
export function errnoText(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : String(error);
}

/** The journal cannot be written (a full disk, most often): the run stops paging and exits 1. */
export class ArchiveWriteError extends XmdError {
  override name = 'ArchiveWriteError';
  constructor(journal: string, cause: unknown) {
    super(
      'E_ARCHIVE_WRITE',
      ExitCode.itemsFailed,
      `cannot write ${journal} (${errnoText(cause)}); free some space and run again: nothing recorded so far is lost`,
      { cause },
    );
  }
}

/** The viewer's files cannot be written: the archive itself is untouched. */
export class ViewWriteError extends XmdError {
  override name = 'ViewWriteError';
  constructor(file: string, cause: unknown) {
    super(
      'E_VIEW_WRITE',
      ExitCode.itemsFailed,
      `cannot write ${file} (${errnoText(cause)}); free some space or make the folder writable, then run view again`,
      { cause },
    );
  }
}

/** SIGINT/SIGTERM: state is saved and the next run resumes. */
export class InterruptedError extends XmdError {
  override name = 'InterruptedError';
  constructor() {
    super('E_INTERRUPTED', ExitCode.interrupted, 'interrupted; state saved, the next run resumes');
  }
}

/** A failure that may succeed if tried again: a retryable status, or a connection-level error. */
export class TransientError extends Error {
  override name = 'TransientError';
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { status?: number; retryAfterMs?: number | undefined; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * A body that came slower than --min-rate over a whole --timeout window. Retried once only: a
 * server that trickles rarely recovers, and each try costs a full window.
 */
export class StallError extends TransientError {
  override name = 'StallError';
}

/** One file that no retry can fetch: the item is recorded as failed with this reason. */
export class TransferError extends Error {
  override name = 'TransferError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A path inside --out that may not be written (through a link, outside --out, in the state folder): the item fails with it. */
export class UnsafePathError extends Error {
  override name = 'UnsafePathError';
}

/** The API answered 404 NOT_FOUND for a user. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}
