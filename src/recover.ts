import type { Archive } from './archive/state.js';
import { tweetsOf } from './archive/tweets.js';
import { normalizeTweet } from './media/normalize.js';

/**
 * What opening the archive found damaged, said plainly, and mended before the run goes on: the
 * media of pages whose journal lines were lost come back from the stored tweets at no cost, or,
 * where the store does not have them, those pages are paged again from page 1.
 */
export function recoverLostPages(archive: Archive, notice: (message: string) => void): void {
  const { report } = archive;
  if (report.torn !== undefined && report.unreadable.length === 0) {
    notice("the journal's last line was cut short by a crash or a full disk mid-write; it was dropped: the run that wrote it had not acted on it yet");
  }
  if (report.unreadable.length === 0 && report.holes.length === 0) return;
  let recovered = 0;
  const repaged = new Map<string, number>();
  for (const hole of report.holes) {
    const stored = new Map(archive.storedPages(hole).map((page) => [page.seq, page]));
    const wanted = Array.from({ length: hole.to - hole.from + 1 }, (_, i) => hole.from + i);
    if (wanted.every((seq) => stored.has(seq))) {
      for (const seq of wanted) {
        const page = stored.get(seq);
        if (!page) continue;
        const items = tweetsOf(page).flatMap((tweet) => normalizeTweet(tweet).items);
        archive.recordPage({ userId: hole.user_id, seq, newest: undefined, body: page.body, items, scan: archive.scanOf(hole.user_id) }, true);
        recovered += 1;
      }
    } else {
      archive.repage(hole);
      repaged.set(hole.user_id, (repaged.get(hole.user_id) ?? 0) + wanted.length);
    }
  }
  const lines = report.unreadable.length;
  const parts = [
    `the journal had ${lines} unreadable line${lines === 1 ? '' : 's'} (damage, not a crash's cut-off end); a copy of it as it was is kept at ${report.copy ?? 'the state folder'}; files already on disk are kept`,
  ];
  if (recovered > 0) parts.push(`${recovered} page${recovered === 1 ? '' : 's'} whose records were lost came back from the stored tweets, at no cost`);
  for (const [user, count] of repaged) {
    parts.push(`${count} page${count === 1 ? '' : 's'} of user ${user} could not be recovered and are paged again from page 1 on this run: paying again for what was lost is the honest cost`);
  }
  if (report.holes.length === 0) parts.push('no page record was among them; a file they recorded is fetched again if it is missing');
  notice(parts.join('; '));
}
