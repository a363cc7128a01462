/**
 * What to say about a word on the command line that is neither a flag nor a command: the
 * command it was probably meant to be (`verfy` → verify), or the `--user` it was meant to be
 * given to: `user`, what the word names as --user takes it (`@handle` or an id), if anything.
 */
export function strayArgumentMessage(word: string, commands: readonly string[], user: string | undefined): string {
  const command = closestCommand(word, commands);
  if (command !== undefined) return `unknown command '${word}'; did you mean ${command}?`;
  if (user !== undefined) return `unexpected argument '${word}'; did you mean --user ${user}?`;
  return `unexpected argument '${word}'; the commands are ${commands.join(', ')}, and the main job takes --user <id|@handle>`;
}

/** The command `word` is a typo or a prefix of, if one is close enough to be a fair guess. */
function closestCommand(word: string, commands: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: { command: string; distance: number } | undefined;
  for (const command of commands) {
    if (lower.length >= 3 && command.startsWith(lower)) return command;
    const distance = editDistance(lower, command);
    const allowed = command.length >= 5 ? 2 : 1;
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { command, distance };
  }
  return best?.command;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i];
    if (row === undefined) continue;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}
