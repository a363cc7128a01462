import { execFileSync } from 'node:child_process';
import { BIN, TEST_KEY } from './cli.js';

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** tmux is there, or this is CI (where .ci/run installs it, so a missing one fails instead of skipping). */
export const TMUX = hasTmux() || process.env['CI'] === 'true';

export function warnIfNoTmux(file: string): void {
  if (!TMUX) process.stderr.write(`${file}: tmux is not installed; the terminal tests are skipped (apt-get install tmux)\n`);
}

export interface Terminal {
  /** The screen as a person sees it; `colors` keeps the escape codes (`capture-pane -e`). */
  screen(colors?: boolean): string;
  /** Polls the screen (every 50 ms, at most 20 s) until `predicate` holds; returns that screen. */
  until(predicate: (text: string) => boolean): Promise<string>;
}

/**
 * The CLI in a real terminal (tmux, 160×12, CI unset), run with `args` and `env` (`NAME=value`
 * words); the screen ends with `EXIT=<code>` once it exits.
 */
export async function inTmux(args: readonly string[], env: string, look: (terminal: Terminal) => Promise<void>): Promise<void> {
  const session = `xmd-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const command = `env -u CI ${env} AGNTDATA_API_KEY=${TEST_KEY} ${process.execPath} ${BIN} ${args.join(' ')}; echo "EXIT=$?"; sleep 60`;
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '12', command]);
  const screen = (colors = false) => execFileSync('tmux', ['capture-pane', '-p', ...(colors ? ['-e'] : []), '-t', session], { encoding: 'utf8' });
  const until = async (predicate: (text: string) => boolean): Promise<string> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const text = screen();
      if (predicate(text) || Date.now() > deadline) return text;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  try {
    await look({ screen, until });
  } finally {
    execFileSync('tmux', ['kill-session', '-t', session]);
  }
}
