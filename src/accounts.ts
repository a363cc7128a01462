import type { ApiClient } from './api/client.js';
import { gapPages, headPages, type FetchedPage, type HeadEnd, type PagerOptions, type PagerStop } from './api/pager.js';
import type { Archive } from './archive/state.js';
import { ApiAuthError, ApiCreditsError, ApiFailedError, ArchiveWriteError, NotFoundError, PayloadError, RateLimitedError, UsageError, XmdError } from './errors.js';
import { sanitizeComponent } from './media/filename.js';
import { shardOf, targetName, type Shard, type UserRef } from './targets.js';
import type { ScanState, StopReason } from './types.js';

/**
 * Many accounts in one run, on one budget: each target resolved to its id (handles once, then
 * remembered), each id once, this machine's shard only; then every account's head (its new
 * tweets) before any backfill goes on, and the backfills taking turns a page at a time, so a
 * small nightly budget still covers every account's new media. A failure that belongs to one
 * account (it does not exist, its pages are unreadable) ends that account only.
 */

export interface Account {
  /** As it was asked for: `@handle` or the id. */
  name: string;
  userId: string;
  scan: ScanState;
  /** API requests made for this account this run (its handle's lookup included). */
  requests: number;
  stop: StopReason | undefined;
  error: XmdError | undefined;
  /** Numbers its pages across the head scan and the gaps. */
  numbering: { last: number };
  /** The continuation tokens earlier runs saved for it. */
  savedTokens: ReadonlySet<string>;
}

/** What scheduling needs from the run. */
export interface AccountContext {
  archive: Archive;
  client: ApiClient;
  /** Takes one request from the run's budget (--max-pages, --max-cost), or returns false. */
  mayRequest: () => boolean;
  /** What stopped for want of budget: --max-pages or --max-cost. */
  budgetStop: () => StopReason;
  pagerOptions: (account: Account) => PagerOptions;
  /** Journal a page and hand its items on. */
  takePage: (account: Account, page: FetchedPage) => void;
  /** Resolves once the downloads have room for another page's items: paging never races ahead. */
  room: () => Promise<void>;
  notice: (message: string) => void;
  signal: AbortSignal;
}

/** Errors that end every account's paging, not one's: the key, the balance, the rate limit, the disk. */
function endsTheRun(error: unknown): boolean {
  return error instanceof ApiAuthError || error instanceof ApiCreditsError || error instanceof RateLimitedError || error instanceof ArchiveWriteError;
}

/**
 * The accounts of this run: resolved, merged by id, this shard's. A target that cannot be
 * resolved is returned among `failed`; a run-wide error is thrown.
 */
export async function resolveAccounts(targets: readonly UserRef[], shard: Shard | undefined, context: AccountContext): Promise<{ accounts: Account[]; failed: Account[] }> {
  const accounts: Account[] = [];
  const failed: Account[] = [];
  const ids = new Set<string>();
  for (const target of targets) {
    const name = targetName(target);
    let userId: string;
    let requests = 0;
    try {
      if (target.kind === 'id') userId = target.id;
      else {
        const known = context.archive.handles.get(target.handle);
        if (known === undefined) requests += 1;
        userId = known ?? (await lookUp(target.handle, context));
      }
    } catch (error) {
      if (!(error instanceof XmdError) || endsTheRun(error)) throw error;
      failed.push({ name, userId: '', scan: { gaps: [], complete: false, pages: 0 }, requests, stop: stopFor(error), error, numbering: { last: 0 }, savedTokens: new Set() });
      continue;
    }
    if (ids.has(userId) || (shard !== undefined && shardOf(userId, shard.count) !== shard.index)) continue;
    ids.add(userId);
    const scan = context.archive.scanOf(userId);
    accounts.push({ name, userId, scan, requests, stop: undefined, error: undefined, numbering: { last: 0 }, savedTokens: new Set(scan.gaps.map((gap) => gap.token)) });
  }
  return { accounts, failed };
}

async function lookUp(handle: string, context: AccountContext): Promise<string> {
  if (!context.mayRequest()) throw new UsageError(`${context.budgetStop() === 'max-cost' ? '--max-cost' : '--max-pages'} leaves no request to look up @${handle}; pass the numeric id or raise it`);
  const userId = (await context.client.profile({ handle }))?.user_id;
  if (userId === undefined) throw new UsageError(`@${handle} does not exist on X (agntdata has no such user); check the handle`);
  context.archive.rememberHandle(handle, userId);
  return userId;
}

/** Heads first, then the backfills in turn; returns the error that ended every account's paging, if any. */
export async function pageAccounts(accounts: readonly Account[], context: AccountContext): Promise<XmdError | undefined> {
  const heads = new Map<Account, HeadEnd>();
  for (const account of accounts) {
    if (context.signal.aborted) break;
    const outcome = await step(account, context, async () => {
      const pager = headPages(account.scan, context.pagerOptions(account));
      for (;;) {
        await context.room();
        const next = await pager.next();
        if (next.done) return next.value;
        take(account, next.value, context);
      }
    });
    if (outcome instanceof XmdError) return outcome;
    if (outcome === undefined) continue;
    if (outcome === 'floor' || outcome === 'end' || outcome === 'paused') heads.set(account, outcome);
    else account.stop = outcome;
  }
  // The backfills take turns, a page each.
  const turns = [...heads].map(([account, head]) => ({ account, pager: gapPages(account.scan, context.pagerOptions(account), head === 'end') }));
  while (turns.length > 0 && !context.signal.aborted) {
    for (const turn of [...turns]) {
      const outcome = await step(turn.account, context, async () => {
        await context.room();
        const next = await turn.pager.next();
        if (next.done) return next.value;
        take(turn.account, next.value, context);
        return 'more' as const;
      });
      if (outcome instanceof XmdError) return outcome;
      if (outcome === 'more') continue;
      if (outcome !== undefined) turn.account.stop = outcome;
      turns.splice(turns.indexOf(turn), 1);
    }
  }
  return undefined;
}

function take(account: Account, page: FetchedPage, context: AccountContext): void {
  account.requests += 1;
  account.scan = page.scan;
  context.takePage(account, page);
}

/**
 * Run one step of an account's paging: its outcome, or undefined when the account failed (its
 * error is kept on it), or the run-wide error that must stop everyone. A user the API does not
 * know, or who shows nothing at all on a first run, is confirmed with one /user/details request.
 */
async function step<T extends HeadEnd | PagerStop | 'more'>(account: Account, context: AccountContext, work: () => Promise<T>): Promise<T | XmdError | undefined> {
  try {
    const outcome = await work();
    if ((outcome === 'end' || outcome === 'history-complete') && account.scan.head === undefined) await confirmUser(account, context);
    return outcome === 'max-pages' ? (context.budgetStop() as T) : outcome;
  } catch (error) {
    if (context.signal.aborted) return undefined;
    if (error instanceof NotFoundError) {
      try {
        await confirmUser(account, context);
        account.stop = 'api-failed';
        account.error = new ApiFailedError(`the API answered NOT_FOUND for ${account.name}, but it exists; try again later`);
      } catch (confirmed) {
        if (!(confirmed instanceof XmdError) || endsTheRun(confirmed)) throw confirmed;
        account.error = confirmed;
        account.stop = stopFor(confirmed);
      }
      return undefined;
    }
    if (!(error instanceof XmdError)) throw error;
    account.stop = stopFor(error);
    if (endsTheRun(error)) return error;
    account.error = error;
    return undefined;
  }
}

/**
 * One `/user/details?user_id=` request (remembered once it finds the user) tells an id that
 * does not exist (a usage error) from an account with no media (a warning).
 */
async function confirmUser(account: Account, context: AccountContext): Promise<void> {
  const { archive } = context;
  let name = [...archive.handles].find(([, id]) => id === account.userId)?.[0];
  if (name === undefined) {
    if (!context.mayRequest()) return;
    account.requests += 1;
    const profile = await context.client.profile({ id: account.userId });
    if (profile === undefined) throw new UsageError(`no such user: ${account.userId} (agntdata knows no X user with this id); check --user`);
    // Remembered under its handle (or its id, which no handle lookup ever asks for).
    name = profile.username?.toLowerCase() ?? account.userId;
    archive.rememberHandle(name, account.userId);
  }
  context.notice(`${/^\d+$/.test(name) ? 'user ' : '@'}${name} has no media`);
}

/**
 * The folder an account's files go in (`{account}`): chosen the first time one of its files is
 * named — its handle then, or its id — and remembered, so a later rename never splits its files.
 */
export function accountFolder(authorId: string | undefined, username: string | undefined, archive: Archive): string {
  const id = authorId ?? username ?? 'unknown';
  const known = archive.accounts.get(id);
  if (known !== undefined) return known;
  const handle = username ?? [...archive.handles].find(([, userId]) => userId === id)?.[0];
  const wanted = sanitizeComponent(handle ?? id);
  const folder = [...archive.accounts.values()].some((taken) => taken.toLowerCase() === wanted.toLowerCase()) ? `${wanted}_${id}` : wanted;
  archive.rememberAccount(id, folder);
  return folder;
}

export function stopFor(error: XmdError): StopReason {
  if (error instanceof ApiCreditsError) return 'out-of-credits';
  if (error instanceof ApiAuthError) return 'key-rejected';
  if (error instanceof RateLimitedError) return 'rate-limited';
  if (error instanceof PayloadError) return 'unreadable-page';
  if (error instanceof ArchiveWriteError) return 'archive-unwritable';
  if (error instanceof UsageError) return 'no-such-user';
  return 'api-failed';
}
